"""The drain-time signal (`drain_seconds`, `workers_wanted`) from real Redis figures, in /api/queues and /metrics."""

from __future__ import annotations

import json
import math
import time

from shared.core import keys
from shared.messages.queue import MessageQueue


def completions(rdb, per_second: int) -> None:
    """Record `per_second` done messages for each of the last 60 seconds, as SETTLE counts them.

    And for the next few: a read that starts in a later second than this write still sees 60 of them.
    """
    now = int(time.time())
    for second in range(now - 59, now + 5):
        rdb.hset(keys.rate("fila", second // 60), str(second), per_second)


def figures(client) -> dict:
    return client.get("/api/queues").get_json()["queues"][0]


def metric(client, name: str) -> float:
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if line.startswith(f'{name}{{queue="fila"}} '):
            return float(line.split()[-1])
    raise AssertionError(f"{name} is not in /metrics")


def test_an_empty_queue_wants_no_worker(client, rdb):
    assert (figures(client)["drain_seconds"], figures(client)["workers_wanted"]) == (0.0, 0)
    assert metric(client, "fila_workers_wanted") == 0


def test_the_backlog_at_the_recent_rate_per_worker_gives_the_workers_wanted(client, rdb, settings):
    MessageQueue(rdb, settings).enqueue([json.dumps(i) for i in range(600)])
    rdb.sadd(keys.WORKERS, "w1", "w2")  # two workers registered
    completions(rdb, 10)  # 10 a second over the last minute: 5 a second each
    shown = figures(client)
    assert shown["drain_seconds"] == 60.0  # 600 at 10 a second
    # Within the shipped DRAIN_TARGET_SECONDS (60) at 5 a second each: 600 / (5 x 60) = 2 workers.
    assert settings.drain_target_seconds == 60 and shown["workers_wanted"] == 2
    completions(rdb, 2)  # slower work: 1 a second each, 600 / (1 x 60) = 10 workers
    assert figures(client)["workers_wanted"] == 10 and metric(client, "fila_workers_wanted") == 10
    assert metric(client, "fila_queue_drain_seconds") == 300


def test_a_backlog_nothing_completes_keeps_what_runs_and_drains_never(client, rdb, settings):
    MessageQueue(rdb, settings).enqueue(['"x"'])
    assert (figures(client)["drain_seconds"], figures(client)["workers_wanted"]) == (None, 1)
    assert math.isinf(metric(client, "fila_queue_drain_seconds"))
    rdb.sadd(keys.WORKERS, "w1", "w2", "w3")
    assert figures(client)["workers_wanted"] == 3
