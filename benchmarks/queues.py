"""Many queues (`make bench BENCH_ARGS=queues`): weights under a saturated backlog, the take over three queues
against the take over one, every operation at 1,000,000 messages over 20 queues, and the hot path against
the tree before named queues (BASELINE, from `git archive`), alternated in the same run, medians compared.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from benchmarks.scale import LIMIT_MS, Scale
from benchmarks.schedule import worker_rate
from benchmarks.table import Row
from shared.core import keys
from shared.core.connection import connect
from shared.core.settings import Settings
from shared.messages.queue import MessageQueue, take_from
from tests.support.processes import ROOT, child_env, start_worker

#: The commit before named queues: its worker and its enqueue are the hot path's baseline.
BASELINE = "a6a9fef"
WEIGHTS = {"alta": 5, "fila": 3, "baixa": 1}
BODY = json.dumps({"text": "the quick brown fox", "work_ms": 0})


def named(settings: Settings, names: tuple[str, ...]) -> Settings:
    """Return the settings with QUEUES set to `names`."""
    env = {name: value for name, value in settings.env().items() if name != "QUEUE_NAME"}
    return Settings.from_env({**env, "QUEUES": ",".join(names), "LOG_MESSAGES": "0", "LOG_LEVEL": "WARNING"})


def done(client: redis.Redis, queue: str) -> int:
    return int(client.hget(keys.stats(queue), "done") or 0)


def weights(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """Two workers at alta:5,fila:3,baixa:1 over 60,000 waiting on each: each queue's share of the first 45,000 done."""
    client.flushall()
    three = named(settings, tuple(WEIGHTS))
    backlog, counted = (6000, 3600) if quick else (60_000, 45_000)
    for name in WEIGHTS:
        queue = MessageQueue(connect(three), three.for_queue(name))
        for start in range(0, backlog, 10_000):
            queue.enqueue([BODY] * min(10_000, backlog - start))
    spec = ",".join(f"{name}:{weight}" for name, weight in WEIGHTS.items())
    workers = [start_worker(three, "--queues", spec) for _ in range(2)]
    try:
        while sum(done(client, name) for name in WEIGHTS) < counted:
            time.sleep(0.005)
        counts = {name: done(client, name) for name in WEIGHTS}
    finally:
        for worker in workers:
            worker.stop()
    total, weight_sum = sum(counts.values()), sum(WEIGHTS.values())
    print(f"   weights {spec}: {counts}")
    rows = []
    for name, weight in WEIGHTS.items():
        share, wanted = counts[name] / total, weight / weight_sum
        rows.append(Row("queues", f"share of `{name}` (weight {weight} of {weight_sum}), 2 workers, saturated backlog, "
                                  f"first {total:,} done", share * 100, "%", target=f"{wanted * 100:.1f} % ± 10 %",
                        met=abs(share - wanted) <= 0.1 * wanted))
    client.flushall()
    return rows


def take_cost(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """TAKE of batches of 100 with one queue named against three (the two others empty), alternated: calls/s."""
    three = named(settings, ("alta", "fila", "baixa"))
    queues = [MessageQueue(connect(three), three.for_queue(name)) for name in ("alta", "fila", "baixa")]
    calls = 500 if quick else 2000
    one, many = [], []
    for _ in range(5):
        for chosen, out in (([queues[1]], one), (queues, many)):
            client.flushall()
            for _ in range(0, calls * 100, 10_000):
                queues[1].enqueue([BODY] * 10_000)
            start = time.perf_counter()
            for _ in range(calls):
                found = take_from(chosen, "bench", 100)
                assert found is not None and len(found[1]) == 100
                client.delete(queues[1].processing_of("bench"))
            out.append(calls / (time.perf_counter() - start))
    value, base = statistics.median(many), statistics.median(one)
    print(f"   take: one queue {[round(v) for v in one]}, three {[round(v) for v in many]} calls/s")
    client.flushall()
    return [Row("queues", "TAKE of 100 over 3 queues (the first empty), median of 5", value, "calls/s",
                "TAKE of 100 over 1 queue, alternated", base, ">= 0.90x", value >= 0.9 * base)]


def scale_rows(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """20 queues, 1,000,000 messages spread over them: the longest Redis call of every operation on them."""
    from web import create_app

    client.flushall()
    names = tuple(f"q{i:02d}" for i in range(20))
    many = named(settings, names)
    size = 100_000 if quick else 1_000_000
    queues = [MessageQueue(connect(many), many.for_queue(name)) for name in names]
    for index, queue in enumerate(queues):
        share = size // len(names)
        for _ in range(0, share, 10_000):
            queue.enqueue([BODY] * 10_000, None)
        client.hset(keys.worker(f"w{index}"), mapping={"queue": ",".join(names[:3]), "host": "h"})
        client.sadd(keys.WORKERS, f"w{index}")
    scale = Scale(client, many)
    web = create_app({"SETTINGS": many, "TESTING": True}).test_client()

    def http(operation: str, method: str, path: str, status: int, **kwargs: object) -> None:
        with scale.watch(operation, size):
            reply = web.open(path, method=method, **kwargs)
        assert reply.status_code == status, (operation, reply.status_code, reply.get_data(as_text=True)[:200])

    batch = [{"body": {"text": f"m{i}"}, "priority": "high"} for i in range(1000)]
    http("POST /api/queues/q07/messages, 1,000 high", "POST", "/api/queues/q07/messages", 202, json=batch)
    http("POST /api/messages?queue=q19, 10,000", "POST", "/api/messages?queue=q19", 202,
         json=[{"body": i} for i in range(10_000)])
    http("GET /api/queues (20 queues, 20 workers)", "GET", "/api/queues", 200)
    http("GET /metrics (20 queues)", "GET", "/metrics", 200)
    http("GET /api/painel?queue=q10", "GET", "/api/painel?queue=q10", 200)
    http("GET /api/workers (20, 3 queues each)", "GET", "/api/workers", 200)
    some = client.lindex("q13", 5)
    assert some
    found_id = json.loads(some)["id"]
    http("GET /api/messages/<id> (the 14th queue)", "GET", f"/api/messages/{found_id}", 200)
    with scale.watch("TAKE 500 over 3 queues", size):
        take_from(queues[:3], "bench", 500)
    with scale.watch("TAKE 500 over 20 queues, the first 19 paused", size):
        for queue in queues[:19]:
            queue.pause()
        found = take_from(queues, "bench", 500)
        assert found is not None and found[0] is queues[19]
    for m in scale.measures:
        print(f"   {m.operation}: longest {m.longest_ms:.2f} ms ({m.command}), client {m.client_ms:.1f} ms")
    worst = max(scale.measures, key=lambda m: m.longest_ms)
    client.flushall()
    return [Row("queues", f"longest Redis call of any operation, 20 queues, {size:,} messages "
                          f"({worst.operation}: {worst.command})", worst.longest_ms, "ms", target=f"<= {LIMIT_MS:g} ms",
                met=worst.longest_ms <= LIMIT_MS, lower_is_better=True)]


ENQUEUE_LOOP = """
import sys, time
from shared.core.connection import connect
from shared.core.settings import Settings
from shared.messages.queue import MessageQueue
settings = Settings.from_env()
queue = MessageQueue(connect(settings), settings)
count = int(sys.argv[1])
start = time.perf_counter()
for _ in range(count):
    queue.enqueue(['{"text": "hello world"}'])
print(count / (time.perf_counter() - start))
"""


def enqueue_rate(settings: Settings, client: redis.Redis, count: int, tree: Path) -> float:
    """Enqueue `count` single messages, one call each, with the MessageQueue of the checkout at `tree`: calls/s."""
    client.flushall()
    env = child_env(settings, {"PYTHONPATH": str(tree)})
    out = subprocess.run([sys.executable, "-c", ENQUEUE_LOOP, str(count)], env=env, cwd=tree, capture_output=True,
                         text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def hot_path(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """The default queue's worker and single-message enqueue, against BASELINE's, alternated 3 times: medians."""
    from benchmarks import schedule

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        previous, schedule.BASELINE = schedule.BASELINE, BASELINE
        try:
            tree = schedule.baseline_tree(Path(tmp))
        finally:
            schedule.BASELINE = previous
        if tree is None:
            return []
        count = 50_000 if quick else 200_000
        for label, measure, unit in (
                (f"worker, default queue ({count:,} messages)", lambda t: worker_rate(settings, client, count, t),
                 "msg/s"),
                ("enqueue, one message per call (MessageQueue.enqueue)",
                 lambda t: enqueue_rate(settings, client, 5000 if quick else 20_000, t), "calls/s")):
            now, then = [], []
            for _ in range(3):
                then.append(measure(tree))
                now.append(measure(ROOT))
            value, base = statistics.median(now), statistics.median(then)
            print(f"   {label}: this tree {[round(v) for v in now]}, {BASELINE} {[round(v) for v in then]} {unit}")
            rows.append(Row("queues", f"hot path: {label}, median of 3", value, unit,
                            f"{BASELINE} (one queue), alternated", base, ">= 0.90x the baseline", value >= 0.9 * base))
    client.flushall()
    return rows


def queues(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """The queues section of `make bench`."""
    return [*weights(settings, client, quick), *take_cost(settings, client, quick),
            *scale_rows(settings, client, quick), *hot_path(settings, client, quick)]
