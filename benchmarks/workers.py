"""Worker throughput and end-to-end latency, against the handout's loop."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import redis
import requests

from benchmarks.table import Row
from shared.core import keys
from shared.core.codec import dumps
from shared.core.connection import connect
from shared.core.ids import id_minute
from shared.core.settings import Settings
from shared.messages import record
from shared.messages.envelope import decode
from shared.messages.handlers import analyse
from shared.messages.queue import MessageQueue, Settled
from shared.messages.status import Outcome
from tests.support.polling import wait_for
from tests.support.processes import start_granian, start_worker
from tests.support.redis_server import free_port

BODY = {"text": "the quick brown fox jumps over the lazy dog"}


def settled_batch(entries: list[str]) -> list[Settled]:
    """Return a done outcome for each entry, as a worker would settle them."""
    now = time.time()
    out = []
    for entry in entries:
        envelope = decode(entry, now)
        out.append(Settled(envelope.id, Outcome.OK, record.done('"bench"', envelope.attempts, envelope.enqueued_at,
                                                                 now, 0.01, '"ok"')))
    return out


def preload(settings: Settings, count: int, raw: bool = False, tracing: Any = None) -> None:
    """Put `count` messages on the queue: envelopes through the API's path, or raw values LPUSHed (the handout).

    `tracing` (benchmarks/tracing.py) gives the envelopes their `traceparent`.
    """
    client = connect(settings)
    queue = MessageQueue(client, settings, tracing)
    body = dumps(BODY)
    for start in range(0, count, 10_000):
        if raw:
            client.lpush(settings.queue_name, *[BODY["text"]] * min(10_000, count - start))
        else:
            queue.enqueue([body] * min(10_000, count - start))


def fresh(client: redis.Redis) -> None:
    client.flushall()


def handout_loop(settings: Settings, count: int) -> float:
    """The handout's BRPOP loop, storing each result with SET; return msg/s."""
    db = connect(settings, block_timeout=5)
    preload(settings, count)
    start = time.perf_counter()
    with open("/dev/null", "w") as sink:
        for _ in range(count):
            _, message = db.brpop(["fila"], 5)
            result = analyse(json.loads(message)["body"], settings)
            db.set(f"result:{count}", json.dumps(result))
            print("Mensagem recebida:", message, file=sink)
    return count / (time.perf_counter() - start)


def blmove_one_at_a_time(settings: Settings, count: int) -> float:
    """Reliable delivery done naively: BLMOVE, process, store, LREM, one message per round trip."""
    db = connect(settings, block_timeout=5)
    preload(settings, count)
    start = time.perf_counter()
    for _ in range(count):
        message = db.blmove("fila", "processing", 5, "RIGHT", "LEFT")
        result = analyse(json.loads(message)["body"], settings)
        db.hset(f"result:{count}", "result", json.dumps(result))
        db.lrem("processing", 1, message)
    return count / (time.perf_counter() - start)


def fila_worker(settings: Settings, client: redis.Redis, count: int, *args: str, log: bool = True,
                raw: bool = False, tracing: Any = None) -> float:
    """Preload `count` messages, start one `python -m worker`, time it until all are stored."""
    import dataclasses

    preload(settings, count, raw, tracing)
    worker = start_worker(dataclasses.replace(settings, log_messages=log), *args)
    start = time.perf_counter()
    while int(client.hget(keys.stats("fila"), "done") or 0) < count:
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    worker.stop()
    lines = sum(1 for line in worker.lines if " done attempts=" in line)
    if log and lines < count:
        raise AssertionError(f"expected {count} log lines, saw {lines}")
    return count / elapsed


def throughput(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """One worker process, reliable, results stored, against the handout's loop."""
    n, n_base = (50_000, 5_000) if quick else (300_000, 20_000)
    fresh(client)
    base = handout_loop(settings, n_base)
    fresh(client)
    naive = blmove_one_at_a_time(settings, n_base)
    rows = []
    for log in (True, False):
        fresh(client)
        value = fila_worker(settings, client, n, log=log)
        label = "log line per message" if log else "LOG_MESSAGES=0"
        rows.append(Row("worker", f"1 process, reliable, results stored, {label}", value, "msg/s",
                        "handout BRPOP loop", base, ">= 100,000 msg/s", value >= 100_000))
    fresh(client)
    raw = fila_worker(settings, client, n, raw=True)
    rows.append(Row("worker", "1 process, reliable, results stored, raw values LPUSHed (the handout's way)", raw,
                    "msg/s", "handout BRPOP loop", base, ">= 100,000 msg/s", raw >= 100_000))
    fresh(client)
    brpop = fila_worker(settings, client, n, "--delivery", "brpop")
    rows.append(Row("worker", "1 process, --delivery brpop (batched RPOP), log lines", brpop, "msg/s",
                    "handout BRPOP loop", base))
    rows.append(Row("worker", "baseline: BLMOVE + LREM one at a time", naive, "msg/s", "handout BRPOP loop", base))
    return rows


def latency(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """POST one message, idle system, to result stored: p50 and p99 from the stored timestamps."""
    count = 300 if quick else 2000
    rows = []
    measured = {}
    for delivery in ("reliable", "brpop"):
        fresh(client)
        port = free_port()
        web = start_granian(settings, port)
        worker = start_worker(settings, "--delivery", delivery)
        session = requests.Session()
        ids = []
        try:
            for i in range(count):
                reply = session.post(f"http://127.0.0.1:{port}/api/messages", json={"body": {"text": f"m {i}"}})
                ids.append(reply.json()["ids"][0])
                time.sleep(0.003)  # an idle system: one message at a time
            wait_for(lambda: int(client.hget(keys.stats("fila"), "done") or 0) >= count, timeout=30, interval=0.01,
                     message="every message done")
        finally:
            worker.stop()
            web.stop()
        with client.pipeline(transaction=False) as pipe:
            for message_id in ids:
                pipe.hget(keys.results("fila", id_minute(message_id)), message_id)
            records = [json.loads(r) for r in pipe.execute()]
        latencies = sorted((r["finished_at"] - r["enqueued_at"]) * 1000 for r in records)
        measured[delivery] = (statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1])
    (p50, p99), (b50, b99) = measured["reliable"], measured["brpop"]
    rows.append(Row("end to end", "POST to result stored, idle, p50", p50, "ms", "brpop worker", b50,
                    "<= 2 ms", p50 <= 2, lower_is_better=True))
    rows.append(Row("end to end", "POST to result stored, idle, p99", p99, "ms", "brpop worker", b99,
                    "<= 10 ms", p99 <= 10, lower_is_better=True))
    return rows


def steady_run(settings: Settings, client: redis.Redis, rate: int, seconds: float) -> dict[str, float]:
    """Offer `rate` messages/s over HTTP for `seconds` (batches every 10 ms, as a busy producer sends them) to the
    default system (granian 2x2, WORKERS=2); return the latency percentiles and whether the backlog stayed flat."""
    import threading

    fresh(client)
    port = free_port()
    web = start_granian(settings, port)
    workers = [start_worker(settings) for _ in range(Settings().workers)]
    url = f"http://127.0.0.1:{port}/api/messages"
    producers, tick = 4, 0.010
    per_post = max(1, round(rate * tick))  # each producer posts every `producers` ticks: `rate` in all
    ids: list[str] = []
    backlog: list[int] = []
    stop = threading.Event()

    def produce(offset: float) -> None:
        session = requests.Session()
        batch = [{"body": {"text": f"steady {i}"}} for i in range(per_post)]
        interval = tick * producers
        due = time.perf_counter() + offset
        while not stop.is_set():
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            ids.extend(session.post(url, json=batch, timeout=10).json()["ids"])
            due += interval

    threads = [threading.Thread(target=produce, args=(i * tick,), daemon=True) for i in range(producers)]
    try:
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        while time.perf_counter() - start < seconds:
            time.sleep(0.25)
            backlog.append(int(client.llen(settings.queue_name)))
        stop.set()
        for thread in threads:
            thread.join(10)
        offered = len(ids) / (time.perf_counter() - start)
        wait_for(lambda: int(client.hget(keys.stats(settings.queue_name), "done") or 0) >= len(ids), timeout=60,
                 interval=0.05, message="every message done")
    finally:
        for proc in workers:
            proc.stop()
        web.stop()
    latencies = []
    for start_at in range(0, len(ids), 10_000):
        with client.pipeline(transaction=False) as pipe:
            for message_id in ids[start_at:start_at + 10_000]:
                pipe.hget(keys.results(settings.queue_name, id_minute(message_id)), message_id)
            latencies += [(r["finished_at"] - r["enqueued_at"]) * 1000 for r in map(json.loads, pipe.execute())]
    latencies.sort()
    half = backlog[len(backlog) // 2:]
    return {"offered": offered, "p50": statistics.median(latencies), "p99": latencies[int(len(latencies) * 0.99) - 1],
            "backlog_max": max(half), "flat": max(half) <= 2 * per_post * producers}


def steady(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """End to end under a steady offered load: p50 and p99 at rising rates; the highest rate the backlog stays flat."""
    seconds = 5.0 if quick else 12.0
    rows, flat_up_to = [], 0.0
    results = {}
    for rate in (5_000, 10_000, 20_000, 40_000, 60_000):
        result = steady_run(settings, client, rate, seconds)
        results[rate] = result
        state = "flat" if result["flat"] else "GROWING"
        print(f"   {rate:,}/s offered {result['offered']:,.0f}/s: p50 {result['p50']:.2f} ms, "
              f"p99 {result['p99']:.2f} ms, backlog max {result['backlog_max']} ({state})", flush=True)
        if result["flat"]:
            flat_up_to = max(flat_up_to, result["offered"])
    for rate, result in results.items():
        target = rate == 20_000
        state = "flat" if result["flat"] else "growing"
        rows.append(Row("end to end", f"steady {result['offered']:,.0f} msg/s offered (HTTP batches), p99"
                                      f" (p50 {result['p50']:.2f} ms, backlog {state})",
                        result["p99"], "ms", target="<= 20 ms at 20,000 msg/s" if target else "",
                        met=(result["p99"] <= 20 and result["flat"]) if target else None, lower_is_better=True))
    rows.append(Row("end to end", "highest steady rate with a flat backlog", flat_up_to, "msg/s"))
    return rows
