"""What the timelines cost: the worker and the producer with TIMELINE_TTL as shipped against 0, memory, NOTE's calls.

- Worker: one `python -m worker` through the same backlog, timelines on (3600 s, as shipped) and
  off (0), alternated, medians compared.
- Producer: one message per POST on granian, on and off, alternated, best of each.
- Memory: `MEMORY USAGE` of the timeline of a message done on its first run (its enqueued step only:
  the record tells the rest).
- Size: the longest ENQUEUE or NOTE call (SLOWLOG) while 1,000,000 messages are enqueued in batches
  of 10,000 (a timeline each) and a worker settles some: a call starts at most NOTE_CHUNK timelines.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import redis

from benchmarks.http import single_posts
from benchmarks.table import Row
from benchmarks.workers import fila_worker, fresh
from shared.core import keys
from shared.core.codec import dumps
from shared.core.settings import Settings
from shared.messages import lua
from shared.messages.queue import MessageQueue
from shared.messages.timeline import NOTE_CHUNK
from tests.support.processes import start_worker


def worker_cost(settings: Settings, client: redis.Redis, count: int, rounds: int) -> list[Row]:
    """One worker, timelines on and off, alternated `rounds` times: medians."""
    off = dataclasses.replace(settings, timeline_ttl=0)
    on_rates, off_rates = [], []
    for _ in range(rounds):
        fresh(client)
        off_rates.append(fila_worker(off, client, count))
        fresh(client)
        on_rates.append(fila_worker(settings, client, count))
    fresh(client)
    value, base = statistics.median(on_rates), statistics.median(off_rates)
    print(f"   worker: timelines on {[round(v) for v in on_rates]}, off {[round(v) for v in off_rates]} msg/s")
    return [Row("timeline", f"1 worker, timelines on (TIMELINE_TTL=3600, as shipped), {count:,} messages, median of "
                f"{rounds}", value, "msg/s", "the same, TIMELINE_TTL=0, alternated", base, ">= 0.90x the baseline",
                value >= 0.9 * base)]


def producer_cost(settings: Settings, client: redis.Redis, seconds: int, rounds: int) -> list[Row]:
    """One message per POST on granian, timelines on and off, alternated: best of each."""
    rates = single_posts({"off": dataclasses.replace(settings, timeline_ttl=0), "on": settings}, client, seconds,
                         rounds)
    if rates is None:
        return []
    value, base = max(rates["on"]), max(rates["off"])
    print(f"   producer: timelines on {[round(v) for v in rates['on']]}, off {[round(v) for v in rates['off']]} req/s")
    return [Row("timeline", f"1 message per POST, granian, timelines on (best of {rounds})", value, "req/s",
                "the same, TIMELINE_TTL=0, alternated", base, ">= 0.90x the baseline", value >= 0.9 * base)]


def longest_call(client: redis.Redis, shas: tuple[str, ...]) -> float:
    """Return the longest call of the scripts `shas` in SLOWLOG (ms), and empty it."""
    longest = max((entry["duration"] / 1000 for entry in client.slowlog_get(100_000)
                   if any(sha in repr(entry.get("command")) for sha in shas)), default=0.0)
    client.slowlog_reset()
    return float(longest)


def memory_and_size(settings: Settings, client: redis.Redis, size: int) -> list[Row]:
    """Bytes a done message's timeline takes, and the longest NOTE call with `size` timelines in Redis."""
    fresh(client)
    queue = MessageQueue(client, settings)
    origin = {"route": "POST /api/messages", "by": "client 127.0.0.1"}
    shas = (client.script_load(lua.NOTE), client.script_load(lua.ENQUEUE))
    client.config_set("slowlog-log-slower-than", 0)
    client.config_set("slowlog-max-len", 100_000)
    client.slowlog_reset()
    longest = 0.0
    body = dumps({"text": "hello world"})
    for start in range(0, size, 10_000):
        queue.enqueue([body] * min(10_000, size - start), origin=origin)
        longest = max(longest, longest_call(client, shas))
    worker = start_worker(dataclasses.replace(settings, log_messages=False))
    try:
        deadline = time.monotonic() + 60
        while int(client.hget(keys.stats("fila"), "done") or 0) < 20_000 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    longest = max(longest, longest_call(client, shas))
    client.config_set("slowlog-log-slower-than", 10_000)
    # A first run that is done adds nothing to its timeline: the step its ENQUEUE wrote is all it holds.
    hashes = client.keys(f"{keys.timeline(0)[:-1]}*")  # a hash a minute: a handful of keys
    fields = sum(client.hlen(key) for key in hashes)
    per_message = sum(client.memory_usage(key, samples=0) or 0 for key in hashes) / max(fields, 1)
    timelines = int(client.hget(keys.stats("fila"), "timeline_steps") or 0)
    fresh(client)
    return [
        Row("timeline", "memory of a done message's timeline (its enqueued step; MEMORY USAGE)", per_message,
            "bytes", "", None, "stated", True, lower_is_better=True),
        Row("timeline", f"longest ENQUEUE or NOTE call ({NOTE_CHUNK} timelines a call), {size:,} messages enqueued "
            "in batches of "
            f"10,000 and 20,000 settled ({timelines:,} steps)", longest, "ms", "", None, "<= 10 ms", longest <= 10,
            lower_is_better=True),
    ]


def timeline(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """The timeline section of `make bench`."""
    count, rounds = (20_000, 3) if quick else (100_000, 5)
    rows = worker_cost(settings, client, count, rounds)
    rows += producer_cost(settings, client, 3 if quick else 6, 2 if quick else 3)
    rows += memory_and_size(settings, client, 100_000 if quick else 1_000_000)
    return rows
