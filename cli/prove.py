"""`fila prove kill-worker|restart-redis|failover`: the delivery guarantee, shown on this deployment's Redis.

    ALLOW_EXPERIMENTS=1 fila prove kill-worker                      reliable delivery: 0 lost
    ALLOW_EXPERIMENTS=1 fila prove kill-worker --delivery brpop     the handout's loop: the batch in hand lost
    ALLOW_EXPERIMENTS=1 fila prove restart-redis                    Redis killed mid-stream (make run's own)
    ALLOW_EXPERIMENTS=1 fila prove failover                         the primary failed over (the HA override)

It sends numbered messages to its own queue (`prove`, never one of QUEUES: the deployment's queues
and workers are not touched), runs them on a worker of its own, kills that worker with SIGKILL
while it holds a batch, lets a second worker finish (and, in reliable mode, reclaim what the dead
one held), and counts how often each number ran: accepted, lost (never ran), duplicated (ran more
than once). restart-redis sends them while it kills Redis itself with SIGKILL (the redis-server
`make run` started and starts again from its append-only file: only that one, found by its pid in
var/redis) and counts what was accepted before, refused during and lost across the crash; failover
does the same while the Sentinels fail the primary over (SENTINEL FAILOVER). The result is kept:
the console and /metrics show the last one of each experiment and mode.

Refused unless ALLOW_EXPERIMENTS=1. Straight on the Redis of REDIS_URL (or `make run`'s); in compose,
`docker compose exec -e ALLOW_EXPERIMENTS=1 worker fila prove kill-worker`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import redis

import shared
from cli.redis import PID_FILE
from shared.core import keys, run_file
from shared.core.codec import dumps
from shared.core.connection import SENTINEL_SCHEME, UNAVAILABLE, connect, parse_sentinel_url
from shared.core.ids import id_minute, new_ids
from shared.core.settings import Delivery, Settings
from shared.messages import proof
from shared.messages.monitor import QueueMonitor
from shared.messages.queue import MessageQueue, processing_key
from shared.messages.status import MessageStatus

#: The folder that holds `shared/` and `worker/`: where `python -m worker` runs from.
ROOT = Path(shared.__file__).resolve().parent.parent
#: The experiment's workers: a short heartbeat so that the dead one is reclaimed within seconds.
HEARTBEAT_TTL = 1.0
#: Messages the first worker holds, taken and not started, when it is killed (at least).
HELD_AT_KILL = 5
#: Numbered messages restart-redis and failover send in one request: a stream of small requests...
SEND_STEP = 10
#: ... spread over this long at least, so that the fault (a third of the way in) and its recovery fall inside it.
STREAM_SECONDS = 6.0
#: Messages a worker takes in one round trip (its batches sized to hold about that many: a batch in hand at any
#: moment of the run, as a worker under a backlog of longer work holds).
BATCH = 50
#: Records read in one round trip when counting what ran.
RECORDS_STEP = 1000


def main(argv: list[str] | None = None) -> int:
    """Run one experiment and print what it counted."""
    parser = argparse.ArgumentParser(prog="fila prove", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=proof.EXPERIMENTS)
    parser.add_argument("--messages", type=int, default=2000, help="numbered messages sent (default 2000)")
    parser.add_argument("--delivery", choices=[d.value for d in Delivery],
                        help="how its workers take messages (default: WORKER_DELIVERY, reliable as shipped)")
    parser.add_argument("--work-ms", type=float, default=2.0, help="each message's work, in ms (default 2)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if not 10 <= args.messages <= proof.MESSAGES_MAX:
        parser.error(f"--messages goes from 10 to {proof.MESSAGES_MAX:,}")
    if not 0 <= args.work_ms <= 1000:
        parser.error("--work-ms goes from 0 to 1000")
    settings = run_file.settings_for_tool()
    if not settings.allow_experiments:
        parser.error("refused: experiments send messages and kill workers; set ALLOW_EXPERIMENTS=1 to allow them "
                     "on this deployment")
    if proof.QUEUE in settings.queue_names:
        parser.error(f"QUEUES declares {proof.QUEUE!r}: the experiments need that name for their own queue")
    delivery = Delivery(args.delivery or settings.worker_delivery)
    run = {"kill-worker": kill_worker, "restart-redis": restart_redis, "failover": failover}[args.experiment]
    found = run(settings, delivery, args.messages, args.work_ms)
    print(json.dumps(found.describe(), indent=2) if args.json else report(found))
    return 0


def report(found: proof.Proof) -> str:
    """Write a result for a terminal."""
    killed = {"restart-redis": "Redis killed with SIGKILL mid-stream and started again",
              "failover": f"the primary failed over mid-stream (REDIS_WAIT_REPLICAS={found.wait_replicas})"}.get(
        found.experiment, f"{found.kills} worker killed with SIGKILL mid-batch")
    refused = [f"  refused     {found.refused:>8,}"] if found.experiment != "kill-worker" else []
    return "\n".join([
        f"fila prove {found.experiment} --delivery {found.delivery}: {found.messages:,} numbered messages, "
        f"{killed}, {found.seconds:.1f} s",
        f"  accepted    {found.accepted:>8,}", *refused,
        f"  ran         {found.done:>8,}",
        f"  lost        {found.lost:>8,}",
        f"  duplicated  {found.duplicated:>8,}",
        "", found.says()])


class Experiment(NamedTuple):
    """What an experiment runs with: its queue's settings, a connection, the queue, its run's id, its two workers'
    names and their environment."""

    own: Settings
    connection: redis.Redis
    queue: MessageQueue
    run: str
    names: list[str]
    env: dict[str, str]


def prepare(settings: Settings, work_ms: float) -> Experiment:
    """Set an experiment up: its own queue (`prove`) beside the deployment's, a run id, its workers' names and env."""
    with_queue = dataclasses.replace(settings, queues=(*settings.queue_names, proof.QUEUE))
    own = with_queue.for_queue(proof.QUEUE)
    connection = connect(settings, name="fila-prove")
    run = new_ids(1)[0]
    env = {**with_queue.env(), "HEARTBEAT_TTL": str(HEARTBEAT_TTL), "LOG_MESSAGES": "0", "LOG_LEVEL": "WARNING",
           "WORKER_BATCH_MAX": str(BATCH), "WORKER_BATCH_TARGET_MS": str(int(BATCH * max(work_ms, 1.0))),
           "WORKER_QUEUES": "", "PYTHONPATH": str(ROOT)}
    clear(connection, run)
    return Experiment(own, connection, MessageQueue(connection, own), run,
                      [f"prove-{run[-8:].lower()}-{n}" for n in ("a", "b")], env)


def kill_worker(settings: Settings, delivery: Delivery, messages: int, work_ms: float) -> proof.Proof:
    """Send `messages` numbered messages, kill the worker running them mid-batch, finish with another, count."""
    began = time.monotonic()
    own, connection, queue, run, names, env = prepare(settings, work_ms)
    first = start(names[0], delivery, env)
    second: subprocess.Popen[bytes] | None = None
    try:
        wait(lambda: connection.sismember(keys.WORKERS, names[0]), 30, "the experiment's first worker started")
        bodies = [dumps({"n": n, "run": run, "work_ms": work_ms}) for n in range(messages)]
        ids: list[str] = []
        for at in range(0, messages, 1000):
            ids += queue.enqueue(bodies[at:at + 1000], origin={"route": "fila prove", "by": "fila prove kill-worker"})
        runs = keys.proof_runs(run)
        held = processing_key(own, names[0])
        wait(lambda: in_hand(connection, runs, messages) >= HELD_AT_KILL, 60 + messages * work_ms / 500,
             "a fifth of the messages run, and a batch in hand")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        print(f"fila prove: killed {names[0]} (pid {first.pid}) with SIGKILL after {connection.hlen(runs):,} runs",
              file=sys.stderr)
        second = start(names[1], delivery, env)
        lists = [proof.QUEUE, held, processing_key(own, names[1])]
        wait(lambda: connection.hlen(runs) >= messages or (not any(connection.llen(name) for name in lists)
                                                           and settled(connection, runs)),
             60 + messages * work_ms / 500, "every message run, or nothing left to run")
        ran = count_runs(connection, own, run, messages, dict(zip(range(messages), ids, strict=True)))
    finally:
        for process in (first, second):
            stop(process)
    found = proof.Proof("kill-worker", delivery.value, messages, len(ids), sum(1 for c in ran if c),
                        sum(1 for c in ran if not c), sum(1 for c in ran if c > 1), 1, time.time(),
                        round(time.monotonic() - began, 3))
    proof.save(connection, found)
    clear(connection, run, ids)
    return found


def restart_redis(settings: Settings, delivery: Delivery, messages: int, work_ms: float) -> proof.Proof:
    """Send `messages` numbered messages while Redis is killed (SIGKILL) and `make run` starts it again; count."""
    server = own_redis(settings)

    def kill() -> str:
        os.kill(server, signal.SIGKILL)
        return f"killed redis-server (pid {server}) with SIGKILL"
    return stream(settings, delivery, messages, work_ms, "restart-redis", kill, answers)


def failover(settings: Settings, delivery: Delivery, messages: int, work_ms: float) -> proof.Proof:
    """Send `messages` numbered messages while the Sentinels fail the primary over (SENTINEL FAILOVER); count."""
    if not settings.redis_url.startswith(f"{SENTINEL_SCHEME}://"):
        raise SystemExit("fila prove failover: it asks the Sentinels to fail the primary over; this REDIS_URL names "
                         "no Sentinel. Run it under the high-availability override: docker compose -f compose.yaml "
                         "-f deploy/ha/compose.ha.yaml exec -e ALLOW_EXPERIMENTS=1 worker fila prove failover")
    address = parse_sentinel_url(settings.redis_url)
    sentinels = [redis.Redis(host=host, port=port, password=settings.redis_sentinel_password or None,
                             socket_timeout=settings.redis_socket_timeout + 1,
                             socket_connect_timeout=settings.redis_connect_timeout + 1, decode_responses=True)
                 for host, port in address.sentinels]

    def primary() -> str | None:
        for sentinel in sentinels:
            try:
                found = sentinel.sentinel_get_master_addr_by_name(address.service, return_responses=True)
            except redis.RedisError:
                continue
            if isinstance(found, tuple | list) and len(found) == 2:
                return f"{found[0]!s}:{found[1]!s}"
        return None

    before = primary()
    if before is None:
        raise SystemExit(f"fila prove failover: no Sentinel of {address.sentinels} answers for {address.service}")

    def switch() -> str:
        failures = []
        for sentinel, (host, port) in zip(sentinels, address.sentinels, strict=True):
            try:
                sentinel.sentinel_failover(address.service)
                return f"asked the Sentinel {host}:{port} to fail {address.service} over from {before}"
            except redis.RedisError as exc:
                failures.append(f"{host}:{port}: {exc}")
        raise SystemExit(f"fila prove failover: no Sentinel would fail {address.service} over: {failures}")
    return stream(settings, delivery, messages, work_ms, "failover", switch,
                  lambda _connection: primary() not in (None, before))


def stream(settings: Settings, delivery: Delivery, messages: int, work_ms: float, experiment: str,
           fault: Callable[[], str], recovered: Callable[[redis.Redis], bool]) -> proof.Proof:
    """Do a `fault` in the middle of a stream of numbered messages, and count what became of them.

    The messages go in small requests over STREAM_SECONDS, to two workers of the experiment's own;
    a third of the way in comes the `fault` (it says what it did); once `recovered` (asked with the
    experiment's connection), every message
    is waited for until it is settled; then accepted, refused (an error answered), lost (accepted,
    never ran) and duplicated are counted.
    """
    began = time.monotonic()
    own, connection, queue, run, names, env = prepare(settings, work_ms)
    workers = [start(name, delivery, env) for name in names]
    accepted: list[int] = []
    ids: list[str] = []
    refused = 0
    try:
        wait(lambda: all(connection.sismember(keys.WORKERS, name) for name in names), 30,
             "the experiment's workers started")
        faulted = False
        pace = STREAM_SECONDS / max(1, messages // SEND_STEP)
        started = time.monotonic()
        for step, at in enumerate(range(0, messages, SEND_STEP)):
            numbers = range(at, min(at + SEND_STEP, messages))
            if not faulted and at >= messages // 3:
                print(f"fila prove: {fault()} after {len(accepted):,} accepted", file=sys.stderr)
                faulted = True
            try:
                ids += queue.enqueue([dumps({"n": n, "run": run, "work_ms": work_ms}) for n in numbers],
                                     origin={"route": "fila prove", "by": f"fila prove {experiment}"})
                accepted += numbers
            except UNAVAILABLE:
                refused += len(numbers)
            time.sleep(max(0.0, started + (step + 1) * pace - time.monotonic()))
        wait(lambda: recovered(connection), 60, "Redis back after the fault")
        # Every message settled (done, or dead after its attempts): nothing pending is left.
        wait(lambda: connection.hlen(keys.pending(proof.QUEUE)) == 0, 60 + messages * work_ms / 500,
             "every message settled")
        ran = count_runs(connection, own, run, messages, dict(zip(accepted, ids, strict=True)))
    finally:
        for process in workers:
            stop(process)
    found = proof.Proof(experiment, delivery.value, messages, len(accepted), sum(1 for c in ran if c),
                        sum(1 for n in accepted if not ran[n]), sum(1 for c in ran if c > 1), 1, time.time(),
                        round(time.monotonic() - began, 3), refused, settings.redis_appendfsync,
                        settings.redis_wait_replicas)
    proof.save(connection, found)
    clear(connection, run, ids)
    return found


def own_redis(settings: Settings) -> int:
    """Return the pid of the redis-server `make run` started (and restarts), serving this REDIS_URL; or refuse."""
    var = run_file.var_dir(settings)
    pid_file = var / "redis" / PID_FILE
    try:
        pid = int(pid_file.read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        pid = 0
    if not pid or run_file.running_url(var) != settings.redis_url:
        raise SystemExit("fila prove restart-redis: it kills the redis-server that `make run` started, which starts "
                         f"it again; none runs from {var} for {run_file.shown(settings.redis_url)}. Run it beside "
                         "`make run` (without REDIS_URL); for compose: `docker compose restart redis` under a "
                         "producer (docs/reliability.md)")
    return pid


def count_runs(connection: redis.Redis, own: Settings, run: str, messages: int,
               accepted: dict[int, str]) -> list[int]:
    """Return how often each number ran (its handler's count), or 1 where only its done record survived.

    The handler counts on a connection of its own, without WAIT. In a failover that count can
    reach the primary being demoted and vanish with it, while the worker's settle, which waits
    for the replica, stores the message's record on the new primary: the message ran, and its
    record (done, its result the number the handler returned) is what says so. `accepted` maps
    each accepted number to its message id; `own` is the experiment's queue.
    """
    counts = connection.hgetall(keys.proof_runs(run))
    ran = [int(counts.get(str(n), 0)) for n in range(messages)]
    uncounted = [(n, message_id) for n, message_id in accepted.items() if not ran[n]]
    monitor = QueueMonitor(connection, own)
    for at in range(0, len(uncounted), RECORDS_STEP):
        step = uncounted[at:at + RECORDS_STEP]
        for (n, _id), found in zip(step, monitor.records([message_id for _n, message_id in step]), strict=True):
            if found is not None and found.status is MessageStatus.DONE and found.result == {"n": n}:
                ran[n] = 1
    return ran


def answers(connection: redis.Redis) -> bool:
    """Tell whether Redis answers (it is back, its data loaded)."""
    try:
        return bool(connection.ping())
    except UNAVAILABLE:
        return False


def in_hand(connection: redis.Redis, runs: str, messages: int) -> int:
    """Return how many messages the first worker took and has not started yet (0 before a fifth have run).

    Only that worker takes from the queue before the kill, so what left the list and has not started is in
    its hands: killing it then is killing it mid-batch, whatever the delivery mode.
    """
    with connection.pipeline(transaction=True) as pipe:
        pipe.llen(proof.QUEUE)
        pipe.hlen(runs)
        waiting, started = pipe.execute()
    return int(messages - waiting - started) if started >= messages // 5 else 0


def start(name: str, delivery: Delivery, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start one of the experiment's workers on its queue, with the counting handler."""
    return subprocess.Popen([sys.executable, "-m", "worker", "--queue", proof.QUEUE, "--name", name, "--delivery",
                             delivery.value, "--handler", "shared.messages.proof:record"],
                            env={**os.environ, **env}, cwd=ROOT, start_new_session=True,
                            stdout=sys.stderr)  # their log lines beside the progress: stdout holds the result


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a worker warm (SIGTERM), and for good if it does not stop within 15 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def wait(condition: Callable[[], object], seconds: float, what: str) -> None:
    """Wait until `condition` holds, or fail saying what did not happen."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"fila prove: gave up after {seconds:.0f} s waiting for {what}")
        time.sleep(0.05)


def settled(connection: redis.Redis, runs: str) -> bool:
    """Tell whether no run was counted for two seconds (a BRPOP worker's lost batch never comes back)."""
    before = connection.hlen(runs)
    time.sleep(2)
    return bool(connection.hlen(runs) == before)


def clear(connection: redis.Redis, run: str, ids: list[str] | None = None) -> None:
    """Delete what an experiment leaves: its queue's keys, its counts, the records of its messages."""
    queue = proof.QUEUE
    names = [queue, keys.high(queue), keys.low(queue), keys.pending(queue), keys.stats(queue), keys.bell(queue),
             keys.dead_index(queue), keys.dead_letters(queue), keys.dead_groups(queue), keys.dead_group_of(queue),
             keys.scheduled(queue), keys.scheduled_envelopes(queue), keys.timings(queue), keys.proof_runs(run)]
    names += sorted({keys.results(queue, id_minute(message_id)) for message_id in ids or []})
    connection.delete(*names)
