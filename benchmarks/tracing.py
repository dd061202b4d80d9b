"""What traces cost: the worker and the producer exporting every span to a local OTLP/HTTP receiver, against off.

- Worker: one `python -m worker` through the same backlog, off (no endpoint) and on, in rotation
  (each variant first in turn), medians compared. On, the backlog carries a `traceparent` as the
  web's would: a kept trace (a span per attempt, every Redis call inside it instrumented, exported
  over HTTP to a receiver in this process), and a trace not kept (what the messages of the requests
  a sampling ratio below 1 leaves out cost).
- Producer: one message per POST on granian, on (Flask's request span, the `fila send` span, the
  ENQUEUE call's span) and off, alternated, best of each.
- Spans: how many the receiver got against how many were made (the SDK drops what overflows its
  queue of 2048 rather than slow the process down).
"""

from __future__ import annotations

import dataclasses
import secrets
import statistics
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from benchmarks.http import single_posts
from benchmarks.table import Row
from benchmarks.workers import fila_worker, fresh
from shared.core.otel import NOT_KEPT
from shared.core.settings import Settings
from tests.support.otlp import Receiver


class Carried:
    """Stands for the web's tracing when the backlog is preloaded: every envelope carries what the web's would.

    A kept trace's `traceparent`, or NOT_KEPT for a trace that is not kept (shared/core/otel.py's `sending`).
    """

    def __init__(self, sampled: bool):
        self.traceparent = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01" if sampled else NOT_KEPT

    @contextmanager
    def sending(self, queue: str, count: int) -> Iterator[tuple[str, str]]:
        """Yield the `traceparent` the envelopes carry (and no trace id for the timeline)."""
        yield self.traceparent, ""


def worker_cost(settings: Settings, client: redis.Redis, count: int, rounds: int) -> list[Row]:
    """One worker, off and tracing on with the messages' traces kept and not kept, in rotation: medians."""
    rates: dict[str, list[float]] = {"off": [], "kept": [], "not kept": []}
    received = []
    with Receiver(keep=False) as receiver:
        traced = dataclasses.replace(settings, otel_endpoint=receiver.url)
        order = list(rates)
        for turn in range(rounds):
            for name in order[turn % 3:] + order[:turn % 3]:  # each variant first in turn: no order's advantage
                fresh(client)
                before = receiver.counts["fila process fila"]
                carried = None if name == "off" else Carried(sampled=name == "kept")
                rates[name].append(fila_worker(traced if carried else settings, client, count, tracing=carried))
                if name == "kept":
                    received.append(receiver.counts["fila process fila"] - before)
    fresh(client)
    value = {name: statistics.median(each) for name, each in rates.items()}
    print("   worker: " + "; ".join(f"{name} {[round(v) for v in each]}" for name, each in rates.items())
          + f" msg/s; attempt spans received {received} of {count} a round")
    return [Row("tracing", f"1 worker, every message's trace kept (a span per attempt, exported over OTLP/HTTP), "
                f"{count:,} messages, median of {rounds}", value["kept"], "msg/s",
                "the same, no endpoint (off), alternated", value["off"], "stated (opt-in)", True),
            Row("tracing", "1 worker, tracing on, the messages' traces not kept (OTEL_TRACES_SAMPLER_ARG < 1 at the "
                "web)", value["not kept"], "msg/s", "the same, off, alternated", value["off"], ">= 0.90x the baseline",
                value["not kept"] >= 0.9 * value["off"]),
            Row("tracing", "attempt spans the receiver got, of those made (the worst round)", min(received) / count,
                "share", "", None, "stated", True)]


def producer_cost(settings: Settings, client: redis.Redis, seconds: int, rounds: int) -> list[Row]:
    """One message per POST on granian: off, on keeping every trace, on keeping 5%; alternated, best of each."""
    with Receiver(keep=False) as receiver:
        traced = dataclasses.replace(settings, otel_endpoint=receiver.url)
        rates = single_posts({"off": settings, "every trace": traced,
                              "5%": dataclasses.replace(traced, otel_sample_ratio=0.05)}, client, seconds, rounds)
    if rates is None:
        return []
    best = {name: max(each) for name, each in rates.items()}
    print("   producer: " + "; ".join(f"{name} {[round(v) for v in each]}" for name, each in rates.items())
          + " req/s")
    return [Row("tracing", f"1 message per POST, granian, tracing on, every trace kept (best of {rounds})",
                best["every trace"], "req/s", "the same, no endpoint (off), alternated", best["off"],
                "stated (opt-in)", True),
            Row("tracing", f"the same, OTEL_TRACES_SAMPLER_ARG=0.05 (best of {rounds})", best["5%"], "req/s",
                "the same, off, alternated", best["off"], "stated (opt-in)", True)]


def tracing(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """The tracing section of `make bench`."""
    count, rounds = (20_000, 3) if quick else (100_000, 5)
    rows = worker_cost(settings, client, count, rounds)
    rows += producer_cost(settings, client, 3 if quick else 6, 2 if quick else 3)
    return rows
