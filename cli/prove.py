"""`fila prove kill-worker`: the delivery guarantee, shown on this deployment's Redis.

    ALLOW_EXPERIMENTS=1 fila prove kill-worker                      reliable delivery: 0 lost
    ALLOW_EXPERIMENTS=1 fila prove kill-worker --delivery brpop     the handout's loop: the batch in hand lost

It sends numbered messages to its own queue (`prove`, never one of QUEUES: the deployment's queues
and workers are not touched), runs them on a worker of its own, kills that worker with SIGKILL
while it holds a batch, lets a second worker finish (and, in reliable mode, reclaim what the dead
one held), and counts how often each number ran: accepted, lost (never ran), duplicated (ran more
than once). The result is kept: the console and /metrics show the last one of each mode.

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

import redis

import shared
from shared.core import keys, run_file
from shared.core.codec import dumps
from shared.core.connection import connect
from shared.core.ids import id_minute, new_ids
from shared.core.settings import Delivery, Settings
from shared.messages import proof
from shared.messages.queue import MessageQueue, processing_key

#: The folder that holds `shared/` and `worker/`: where `python -m worker` runs from.
ROOT = Path(shared.__file__).resolve().parent.parent
#: The experiment's workers: a short heartbeat so that the dead one is reclaimed within seconds.
HEARTBEAT_TTL = 1.0
#: Messages the first worker holds, taken and not started, when it is killed (at least).
HELD_AT_KILL = 5
#: Messages a worker takes in one round trip (its batches sized to hold about that many: a batch in hand at any
#: moment of the run, as a worker under a backlog of longer work holds).
BATCH = 50


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
    found = kill_worker(settings, delivery, args.messages, args.work_ms)
    print(json.dumps(found.describe(), indent=2) if args.json else report(found))
    return 0


def report(found: proof.Proof) -> str:
    """Write a result for a terminal."""
    return "\n".join([
        f"fila prove {found.experiment} --delivery {found.delivery}: {found.messages:,} numbered messages, "
        f"{found.kills} worker killed with SIGKILL mid-batch, {found.seconds:.1f} s",
        f"  accepted    {found.accepted:>8,}",
        f"  ran         {found.done:>8,}",
        f"  lost        {found.lost:>8,}",
        f"  duplicated  {found.duplicated:>8,}",
        "", found.says()])


def kill_worker(settings: Settings, delivery: Delivery, messages: int, work_ms: float) -> proof.Proof:
    """Send `messages` numbered messages, kill the worker running them mid-batch, finish with another, count."""
    began = time.monotonic()
    with_queue = dataclasses.replace(settings, queues=(*settings.queue_names, proof.QUEUE))
    own = with_queue.for_queue(proof.QUEUE)
    connection = connect(settings, name="fila-prove")
    queue = MessageQueue(connection, own)
    run = new_ids(1)[0]
    names = [f"prove-{run[-8:].lower()}-{n}" for n in ("a", "b")]
    env = {**with_queue.env(), "HEARTBEAT_TTL": str(HEARTBEAT_TTL), "LOG_MESSAGES": "0", "LOG_LEVEL": "WARNING",
           "WORKER_BATCH_MAX": str(BATCH), "WORKER_BATCH_TARGET_MS": str(int(BATCH * max(work_ms, 1.0))),
           "WORKER_QUEUES": "", "PYTHONPATH": str(ROOT)}
    clear(connection, run)
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
        counts = connection.hgetall(runs)
    finally:
        for process in (first, second):
            stop(process)
    ran = [int(counts.get(str(n), 0)) for n in range(messages)]
    found = proof.Proof("kill-worker", delivery.value, messages, len(ids), sum(1 for c in ran if c),
                        sum(1 for c in ran if not c), sum(1 for c in ran if c > 1), 1, time.time(),
                        round(time.monotonic() - began, 3))
    proof.save(connection, found)
    clear(connection, run, ids)
    return found


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
