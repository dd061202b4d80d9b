"""Time: scheduled messages at a million, promotion's rate, lateness at 5,000 due a second, the hot path's cost.

- Scale: with SIZE messages scheduled (due in an hour), every scheduled-message operation through
  fila's own code (the views, MessageQueue) under SLOWLOG, and the memory a scheduled message takes;
  then SIZE due at once, promoted by MessageQueue.promote steps: the rate, and the longest call.
- Lateness: 50,000 messages due over 10 s (5,000 a second), run by make run's two workers; start
  minus due, p50 and p99 (the start is the stored finish minus the run's own time).
- Hot path: the worker benchmark (no scheduled message) against the worker of the commit before
  scheduling existed (BASELINE, from `git archive`), alternated in the same run, medians compared.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import subprocess
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import redis

from benchmarks.scale import LIMIT_MS, Scale
from benchmarks.table import Row
from benchmarks.workers import preload
from shared.core import keys
from shared.core.codec import dumps
from shared.core.connection import connect
from shared.core.ids import id_minute
from shared.core.settings import Settings
from shared.messages.periodic import SCHEDULES_MAX, Schedule, Schedules
from shared.messages.queue import MessageQueue
from shared.messages.schedule import PROMOTE_STEP, Options
from tests.support.processes import ROOT, start_worker

#: The commit before delays, backoff and expiry: its worker is the hot path's baseline.
BASELINE = "14353a4"
BODY = dumps({"text": "the quick brown fox jumps over the lazy dog", "work_ms": 0})
CHUNK = 10_000


def fill_scheduled(queue: MessageQueue, count: int, due_ms: int) -> None:
    """Schedule `count` messages due at `due_ms` through MessageQueue.enqueue, CHUNK per call."""
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        queue.enqueue([BODY] * size, [Options(due_ms=due_ms)] * size)


def scale_rows(settings: Settings, client: redis.Redis, size: int) -> list[Row]:
    """SIZE scheduled: each operation's longest Redis call; memory per message; SIZE due at once promoted."""
    from web import create_app

    client.flushall()
    scale = Scale(client, settings)
    web = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    queue = MessageQueue(connect(settings), settings)
    before = int(client.info("memory")["used_memory"])
    due_ms = int(time.time() * 1000) + 3_600_000
    fill_scheduled(queue, size, due_ms)
    per_message = (int(client.info("memory")["used_memory"]) - before) / size
    some = client.zrange(keys.scheduled(settings.queue_name), size // 2, size // 2 + 1)

    def http(operation: str, method: str, path: str, status: int, **kwargs: object) -> None:
        with scale.watch(operation, size):
            reply = web.open(path, method=method, **kwargs)
        assert reply.status_code == status, (operation, reply.status_code, reply.get_data(as_text=True)[:200])

    batch = [{"body": {"text": f"m{i}"}, "delay_ms": 3_600_000} for i in range(settings.batch_max)]
    http(f"POST /api/messages, {settings.batch_max:,} delayed", "POST", "/api/messages", 202, json=batch)
    http("GET /api/messages/<id>, scheduled", "GET", f"/api/messages/{some[0]}", 200)
    http("GET /api/scheduled (1000)", "GET", "/api/scheduled?limit=1000", 200)
    page = web.get("/api/scheduled?limit=1000").get_json()["next"]
    http("GET /api/scheduled (1000), the next page", "GET", f"/api/scheduled?limit=1000&after={page}", 200)
    http("DELETE /api/scheduled/<id>", "DELETE", f"/api/scheduled/{some[1]}", 204)
    http("GET /api/queues", "GET", "/api/queues", 200)
    http("GET /metrics", "GET", "/metrics", 200)
    http("GET /api/painel", "GET", "/api/painel", 200)
    with scale.watch("promote, nothing due", size):
        assert queue.promote()[0] == 0
    periodic = Schedules(connect(settings), settings)
    now_ms = int(time.time() * 1000)
    for i in range(SCHEDULES_MAX):
        periodic.add(Schedule(f"s{i}", BODY, every_ms=1000, created_ms=now_ms))
    http(f"GET /api/schedules ({SCHEDULES_MAX:,})", "GET", "/api/schedules", 200)
    with scale.watch(f"fire {SCHEDULES_MAX:,} periodic ticks due at once", size):
        fired = 0
        while step := periodic.fire_due(now=now_ms / 1000 + 2):
            fired += step
    assert fired == SCHEDULES_MAX, fired

    client.flushall()
    due_ms = int(time.time() * 1000) + 3_600_000
    fill_scheduled(queue, size, due_ms)
    moved = 0
    with scale.watch(f"promote {size:,} due at once", size) as measure:
        while True:
            step, _ = queue.promote(now=due_ms / 1000)  # an hour on: all of them due
            moved += step
            if step == 0:
                break
    assert moved == size == client.llen(settings.queue_name), (moved, size)
    rate = size / (measure.client_ms / 1000)
    worst = max(scale.measures, key=lambda m: m.longest_ms)
    for m in scale.measures:
        print(f"   {m.operation}: longest {m.longest_ms:.2f} ms ({m.command}), client {m.client_ms:.1f} ms")
    client.flushall()
    return [
        Row("schedule", f"longest Redis call of any scheduled-message operation at {size:,} scheduled "
                        f"({worst.operation}: {worst.command})", worst.longest_ms, "ms", target=f"<= {LIMIT_MS:g} ms",
            met=worst.longest_ms <= LIMIT_MS, lower_is_better=True),
        Row("schedule", f"promotion, {size:,} due at once (MessageQueue.promote steps of {PROMOTE_STEP})", rate,
            "msg/s", target=">= 100,000 msg/s", met=rate >= 100_000),
        Row("schedule", f"memory per scheduled message (zset + envelope hash + pending), at {size:,}", per_message,
            "bytes", lower_is_better=True),
    ]


def lateness(settings: Settings, client: redis.Redis, rate: int, seconds: float) -> dict[str, float]:
    """Schedule `rate` messages due a second over `seconds`; run them on WORKERS workers; return start - due (ms)."""
    client.flushall()
    queue = MessageQueue(connect(settings), settings)
    first = int(time.time() * 1000) + 3000
    count = int(rate * seconds)
    ids: list[str] = []
    dues: list[int] = []
    for start in range(0, count, CHUNK):
        chunk = [first + i * 1000 // rate for i in range(start, min(count, start + CHUNK))]
        ids += queue.enqueue([BODY] * len(chunk), [Options(due_ms=due) for due in chunk])
        dues += chunk
    workers = [start_worker(dataclasses.replace(settings, log_messages=False)) for _ in range(settings.workers)]
    try:
        deadline = time.monotonic() + seconds + 60
        while int(client.hget(keys.stats("fila"), "done") or 0) < count and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for worker in workers:
            worker.stop()
    late = []
    with client.pipeline(transaction=False) as pipe:
        for message_id in ids:
            pipe.hget(keys.results("fila", id_minute(message_id)), message_id)
        stored = pipe.execute()
    for due, found in zip(dues, stored, strict=True):
        record = json.loads(found)
        late.append((record["finished_at"] - record["ms"] / 1000) * 1000 - due)
    late.sort()
    return {"p50": statistics.median(late), "p99": late[int(len(late) * 0.99) - 1], "max": late[-1],
            "early": sum(1 for value in late if value < -1)}


def baseline_tree(where: Path) -> Path | None:
    """Unpack the BASELINE commit's tree under `where` (None when this is not a git checkout)."""
    try:
        archive = subprocess.run(["git", "archive", "--format=tar", BASELINE], cwd=ROOT, capture_output=True,
                                 check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"   no baseline worker ({exc}): the hot-path row is left out")
        return None
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    return where


def worker_rate(settings: Settings, client: redis.Redis, count: int, tree: Path) -> float:
    """Preload `count` messages, run one worker of the checkout at `tree` until all are stored; msg/s."""
    client.flushall()
    preload(settings, count)
    worker = start_worker(settings, tree=tree)
    start = time.perf_counter()
    while int(client.hget(keys.stats("fila"), "done") or 0) < count:
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    worker.stop()
    return count / elapsed


def hot_path(settings: Settings, client: redis.Redis, count: int, rounds: int) -> list[Row]:
    """The worker with no scheduled message, against BASELINE's, alternated `rounds` times: medians."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = baseline_tree(Path(tmp))
        if tree is None:
            return []
        now, then = [], []
        for _ in range(rounds):
            then.append(worker_rate(settings, client, count, tree))
            now.append(worker_rate(settings, client, count, ROOT))
    value, base = statistics.median(now), statistics.median(then)
    print(f"   hot path: this tree {[round(v) for v in now]}, {BASELINE} {[round(v) for v in then]} msg/s")
    return [Row("schedule", f"worker hot path, no scheduled message ({count:,} messages, median of {rounds})", value,
                "msg/s", f"the worker at {BASELINE}, alternated", base, ">= 0.90x the baseline",
                value >= 0.9 * base)]


def schedule(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """The schedule section of `make bench` (quick: 100k scheduled, a shorter lateness run)."""
    size = 100_000 if quick else 1_000_000
    rows = scale_rows(settings, client, size)
    late = lateness(settings, client, rate=5000, seconds=4 if quick else 10)
    print(f"   lateness at 5,000 due/s: {late}")
    rows += [Row("schedule", f"lateness (start - due) at 5,000 due/s, {settings.workers} workers, p50", late["p50"],
                 "ms", target="", lower_is_better=True),
             Row("schedule", f"lateness (start - due) at 5,000 due/s, {settings.workers} workers, p99", late["p99"],
                 "ms", target="<= 100 ms", met=late["p99"] <= 100 and late["early"] == 0, lower_is_better=True)]
    rows += hot_path(settings, client, 50_000 if quick else 200_000, 3)
    client.flushall()
    return rows
