"""Scale: every fila operation against big queues, big dead-letter sets and many workers, watched by SLOWLOG.

Redis runs one command at a time: a call that takes long stalls every other client. For each
operation this measures, through fila's real code (the Flask app's views, MessageQueue, the
reaper), the longest single Redis call (SLOWLOG, every command logged while the operation runs),
the client's time, and, for the queue, the memory a queued message takes (INFO memory).
`make bench scale` runs it at 10k, 100k and 1M; tests/test_scale.py at a smaller size, failing
when any call takes over LIMIT_MS.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis

from benchmarks.table import Row, publish
from shared.core import keys
from shared.core.codec import dumps
from shared.core.connection import connect
from shared.core.settings import Settings
from shared.messages.queue import MessageQueue
from worker.reaper import Reaper
from worker.state import WorkerState

#: No fila call may hold Redis longer than this.
LIMIT_MS = 10.0
BODY = dumps({"text": "the quick brown fox jumps over the lazy dog", "work_ms": 0})


@dataclass
class Measure:
    """One operation at one size: the longest Redis call (ms) and what it was, the client's time (ms)."""

    operation: str
    size: int
    longest_ms: float = 0.0
    command: str = ""
    client_ms: float = 0.0
    calls: int = 0


@dataclass
class Scale:
    """Runs operations against a Redis, recording a Measure for each."""

    client: redis.Redis
    settings: Settings
    measures: list[Measure] = field(default_factory=list)

    @contextmanager
    def watch(self, operation: str, size: int) -> Iterator[Measure]:
        """Log every Redis command while the block runs; record the longest and the block's own time."""
        measure = Measure(operation, size)
        self.client.config_set("slowlog-max-len", 200_000)
        self.client.slowlog_reset()
        self.client.config_set("slowlog-log-slower-than", 0)
        start = time.perf_counter()
        try:
            yield measure
        finally:
            measure.client_ms = (time.perf_counter() - start) * 1000
            self.client.config_set("slowlog-log-slower-than", -1)
            entries = [e for e in self.client.slowlog_get(200_000)
                       if not _command(e).lower().startswith(("config", "slowlog"))]
            measure.calls = len(entries)
            if entries:
                worst = max(entries, key=lambda e: e["duration"])
                measure.longest_ms = worst["duration"] / 1000
                measure.command = _command(worst)[:60]
            self.measures.append(measure)


def _command(entry: dict[str, Any]) -> str:
    command = entry.get("command", "")
    return command.decode(errors="replace") if isinstance(command, bytes) else str(command)


def fill_queue(queue: MessageQueue, count: int, batch: int) -> None:
    """Enqueue `count` messages through MessageQueue.enqueue, `batch` per call."""
    for start in range(0, count, batch):
        queue.enqueue([BODY] * min(batch, count - start))


def register(client: redis.Redis, name: str, heartbeat: bool = True) -> None:
    """Register a worker as its heartbeat does (the heartbeat lasting the whole run)."""
    with client.pipeline(transaction=True) as pipe:
        pipe.hset(keys.worker(name), mapping={"host": "bench", "pid": "1", "delivery": "reliable", "queue": "fila",
                                              "started_at": f"{time.time():.3f}", "heartbeat_at": f"{time.time():.3f}"})
        if heartbeat:
            pipe.set(keys.heartbeat(name), "1", px=3_600_000)
        pipe.sadd(keys.WORKERS, name)
        pipe.execute()


def make_dead(client: redis.Redis, settings: Settings, count: int) -> list[str]:
    """Make `count` dead letters through fila's own path: taken by a worker that dies, no attempts left."""
    killer = MessageQueue(client, dataclasses.replace(settings, max_attempts=1))
    before = set(client.zrange(keys.dead_index(settings.queue_name), 0, -1)) if count <= 100_000 else set()
    fill_queue(killer, count, settings.batch_max)
    while client.llen(settings.queue_name):
        killer.take("bench-dying", 500)
        killer.reclaim("bench-dying", "bench: a worker that always dies")
    return [i for i in client.zrange(keys.dead_index(settings.queue_name), 0, 99) if i not in before]


def run(client: redis.Redis, settings: Settings, size: int, workers: int, held: int, bulk_lines: int) -> list[Measure]:
    """Measure every operation with `size` queued messages and `size` dead letters, `workers` holding `held` each."""
    from web import create_app

    client.flushall()
    scale = Scale(client, settings)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    web = app.test_client()
    queue = MessageQueue(connect(settings), settings)

    base_memory = int(client.info("memory")["used_memory"])
    fill_queue(queue, size, settings.batch_max)
    per_message = (int(client.info("memory")["used_memory"]) - base_memory) / size

    # Workers: each takes `held` and holds them (processing); one more dies holding `held`.
    fill_queue(queue, workers * held + held, settings.batch_max)
    for number in range(workers):
        name = f"bench-worker-{number:03d}"
        register(client, name)
        queue.take(name, held)
    register(client, "bench-dead", heartbeat=False)
    queue.take("bench-dead", held)

    queued_id = client.hkeys(keys.pending(settings.queue_name))[0]
    processing_id = next(i for i, holder in client.hscan_iter(keys.pending(settings.queue_name), count=1000) if holder)

    def http(operation: str, call: Callable[[], Any], status: int = 200) -> None:
        with scale.watch(operation, size):
            reply = call()
        if reply.status_code != status:
            raise AssertionError(f"{operation}: HTTP {reply.status_code} {reply.get_data(as_text=True)[:200]}")

    batch = [{"body": {"text": f"m{i}"}} for i in range(settings.batch_max)]
    http(f"POST /api/messages, {settings.batch_max:,} messages", lambda: web.post("/api/messages", json=batch), 202)
    http("GET /api/messages/<id>, queued", lambda: web.get(f"/api/messages/{queued_id}"))
    http("GET /api/messages/<id>, processing", lambda: web.get(f"/api/messages/{processing_id}"))
    http("GET /api/queues", lambda: web.get("/api/queues"))
    http("GET /api/workers", lambda: web.get("/api/workers"))
    http("GET /metrics", lambda: web.get("/metrics"))
    http("GET /api/painel", lambda: web.get("/api/painel"))
    http("GET /listar/fila (first LIST_SHOW_MAX)", lambda: web.get("/listar/fila"))

    worker = "bench-worker-000"
    with scale.watch(f"TAKE {held}", size):
        entries = queue.take(worker, held) or []
    from benchmarks.workers import settled_batch

    settled = settled_batch(entries)
    holding = queue.holding(worker)
    with scale.watch(f"SETTLE {len(holding)}", size):
        queue.settle(worker, holding, settled_batch(holding), reliable=True)
    done_id = settled[0].id
    http("GET /api/messages/<id>, done", lambda: web.get(f"/api/messages/{done_id}"))

    reaper = Reaper(client, WorkerState("bench-reaper", settings), [queue])
    reaper.connected_since = time.monotonic() - settings.heartbeat_ttl - 1
    with scale.watch(f"reap a dead worker holding {held}", size):
        reaped = reaper.reap()
    assert reaped == 1 and client.llen(keys.processing("bench-dead")) == 0, reaped

    csv = "".join(f"chave{i},valor{i}\n" for i in range(bulk_lines)).encode()
    http(f"POST /api/bulk, {bulk_lines:,} lines", lambda: web.post("/api/bulk", data=csv, content_type="text/csv"))

    client.delete(settings.queue_name)  # dead letters next: an empty queue to fill and kill
    some = make_dead(client, settings, size)
    http("GET /api/dead (100)", lambda: web.get("/api/dead"))
    http("GET /api/dead (1000)", lambda: web.get("/api/dead?limit=1000"))
    http("POST /api/dead/requeue, 10 ids", lambda: web.post("/api/dead/requeue", json={"ids": some[:10]}))
    http("DELETE /api/dead/<id>", lambda: web.delete(f"/api/dead/{some[10]}"))
    def all_steps(path: str, payload: dict[str, Any]) -> Any:
        """Send an "all" action again with its `until` until nothing remains; return the last answer."""
        reply = web.post(path, json=payload)
        while reply.status_code == 200 and reply.get_json()["remaining"]:
            reply = web.post(path, json={**payload, "until": reply.get_json()["until"]})
        return reply

    http("POST /api/dead/requeue, all (10,000 a request)", lambda: all_steps("/api/dead/requeue", {"all": True}))
    assert client.zcard(keys.dead_index(settings.queue_name)) == 0
    client.delete(settings.queue_name)
    make_dead(client, settings, size)
    http("POST /api/dead/purge, all (10,000 a request)", lambda: all_steps("/api/dead/purge", {"confirm": True}))
    assert client.zcard(keys.dead_index(settings.queue_name)) == 0

    scale.measures.append(Measure(f"memory per queued message: {per_message:.0f} bytes", size, client_ms=per_message))
    return scale.measures


def render(measures: list[Measure]) -> str:
    """Render operation x size: the longest Redis call and the client's time."""
    sizes = sorted({m.size for m in measures})
    operations = list(dict.fromkeys(m.operation.split(":")[0] for m in measures))
    cells = {(m.operation.split(":")[0], m.size): m for m in measures}
    lines = ["| operation | " + " | ".join(f"{size:,}: longest Redis call / client" for size in sizes) + " |",
             "|---|" + "---:|" * len(sizes)]
    for operation in operations:
        row = []
        for size in sizes:
            m = cells.get((operation, size))
            if m is None:
                row.append("")
            elif operation.startswith("memory"):
                row.append(f"{m.client_ms:.0f} bytes")
            else:
                flag = " **over**" if m.longest_ms > LIMIT_MS else ""
                row.append(f"{m.longest_ms:.2f} ms{flag} / {m.client_ms:.1f} ms")
        lines.append(f"| {operation} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def scale(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """The scale section of `make bench`: 10k, 100k and 1M (quick: 10k and 100k)."""
    measures: list[Measure] = []
    for size in (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000):
        print(f"   scale: {size:,} ...", flush=True)
        measures += run(client, settings, size, workers=200, held=500, bulk_lines=100_000)
    client.flushall()
    table = render(measures)
    publish("scale.md", table)
    worst = max((m for m in measures if not m.operation.startswith("memory")), key=lambda m: m.longest_ms)
    return [Row("scale", f"longest Redis call of any fila operation, up to {max(m.size for m in measures):,} "
                         f"({worst.operation}: {worst.command})", worst.longest_ms, "ms", target=f"<= {LIMIT_MS:g} ms",
                met=worst.longest_ms <= LIMIT_MS, lower_is_better=True)]
