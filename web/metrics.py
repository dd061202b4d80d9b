"""`/metrics` in Prometheus format, read from Redis at scrape time (the same figures as /api/queues).

Counters, not precomputed rates (PromQL's rate() does that). While Redis is down the scrape
still answers 200, with `fila_redis_up 0`: an alert can fire on it.
"""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from shared.core.connection import UNAVAILABLE
from shared.messages import proof, timings
from web.access import Access, policy
from web.services import Services

bp = Blueprint("metrics", __name__)


def fila_version() -> str:
    """Return the installed fila's version."""
    try:
        return version("fila")
    except PackageNotFoundError:
        return "unknown"


class FilaCollector(Collector):
    """Turn the queue's figures, the workers, the timings and RQ's registries into metrics."""

    def __init__(self, services: Services, app: Flask):
        self.services, self.app = services, app
        self.build = {"version": fila_version(), "python": platform.python_version()}

    def collect(self) -> Iterator[Metric]:
        """Yield fila_redis_up and fila_build_info, then (when Redis answers) every figure."""
        try:
            families = list(self._figures())
        except UNAVAILABLE:
            families, up = [], 0
        else:
            up = 1
        redis_up = GaugeMetricFamily("fila_redis_up", "1 when Redis answered this scrape, 0 when it did not.")
        redis_up.add_metric([], up)
        yield redis_up
        yield InfoMetricFamily("fila_build", "fila's version, and the Python it runs on.", value=self.build)
        tracing = GaugeMetricFamily("fila_tracing_enabled", "1 when this web process sends traces over OTLP "
                                                            "(OTEL_EXPORTER_OTLP_ENDPOINT is set), 0 when it does not.")
        tracing.add_metric([], 0 if self.services.tracing is None else 1)
        yield tracing
        yield from self._lab()
        yield from families

    def _lab(self) -> list[Metric]:
        """Yield what this process loaded of the lab (lab/app.py): its routes, and whether it loaded whole."""
        state = self.app.extensions.get("fila_lab")
        routes = GaugeMetricFamily("fila_lab_routes", "Routes of the lab (lab/app.py) this web process serves.")
        routes.add_metric([], len(state.rules) if state else 0)
        loaded = GaugeMetricFamily("fila_lab_loaded", "1 when lab/app.py loaded without an error (or is absent), 0 "
                                                      "when an error left routes out (the log names it).")
        loaded.add_metric([], 0 if state and state.error else 1)
        return [routes, loaded]

    def _figures(self) -> Iterator[Metric]:
        every = [queue.monitor.figures() for queue in self.services.queues.values()]
        families = [self._families(figures) for figures in every]
        for index, (kind, metric, doc, _value) in enumerate(families[0]):
            family = kind(metric, doc, labels=["queue"])
            for figures, values in zip(every, families, strict=True):
                family.add_metric([figures["name"]], values[index][3])
            yield family
        workers = self.services.monitor.workers()
        for state, doc, counted in (
                ("live", "heartbeat fresh (the stuck ones included)", ("alive", "stuck")),
                ("lost", "heartbeat stopped, not reaped yet", ("lost",)),
                ("stuck", "a handler past its timeout, its message taken back; restarting if it stays so",
                 ("stuck",))):
            family = GaugeMetricFamily(f"fila_workers_{state}", f"Message workers {state} ({doc}).", labels=["queue"])
            for figures in every:
                family.add_metric([figures["name"]], sum(1 for worker in workers if worker["state"] in counted
                                                         and figures["name"] in worker["queues"]))
            yield family
        memory = self.services.monitor.memory()
        for metric, doc, value in (
                ("fila_redis_memory_used_bytes", "Memory Redis uses.", memory["used_bytes"]),
                ("fila_redis_memory_max_bytes", "Redis' maxmemory (0: no limit).", memory["max_bytes"]),
                ("fila_redis_full", "1 while Redis is full: it refuses writes (507) until memory is freed.",
                 int(memory["full"]))):
            plain = GaugeMetricFamily(metric, doc)
            plain.add_metric([], value)
            yield plain
        histogram = HistogramMetricFamily("fila_processing_seconds", "Handler time per message.", labels=["queue"])
        for figures in every:
            buckets, total, _count = timings.read(self.services.redis, figures["name"])
            histogram.add_metric([figures["name"]], buckets, total)
        yield histogram
        rq = self.services.jobs.figures()
        jobs = GaugeMetricFamily("fila_rq_jobs", "RQ jobs per state (registry sizes).", labels=["queue", "state"])
        for state in ("queued", "started", "finished", "failed", "deferred", "scheduled"):
            jobs.add_metric([rq["name"], state], rq["length" if state == "queued" else state])
        yield jobs
        rq_workers = GaugeMetricFamily("fila_rq_workers", "RQ workers listening.", labels=["queue"])
        rq_workers.add_metric([rq["name"]], rq["workers"])
        yield rq_workers
        proven = proof.results(self.services.redis)
        for field, doc in (("accepted", "numbered messages accepted"), ("lost", "numbers that never ran"),
                           ("duplicated", "numbers that ran more than once")):
            family = GaugeMetricFamily(f"fila_prove_{field}", f"The last `fila prove` experiment of each kind and "
                                       f"delivery mode: {doc}.", labels=["experiment", "delivery"])
            for found in proven:
                family.add_metric([found.experiment, found.delivery], getattr(found, field))
            yield family

    @staticmethod
    def _families(figures: dict[str, Any]) -> list[tuple[Any, str, str, float]]:
        """Return (kind, metric, help, value) of every per-queue figure of one queue."""
        gauge, counter = GaugeMetricFamily, CounterMetricFamily
        return [
            (gauge, "fila_queue_length", "Messages waiting on the queue list.", figures["length"]),
            (gauge, "fila_queue_in_flight", "Messages held by workers (their processing lists).", figures["in_flight"]),
            (gauge, "fila_queue_oldest_age_seconds", "Age of the oldest waiting message (0 when none waits).",
             figures["oldest_age_s"]),
            (gauge, "fila_queue_paused", "1 while the queue is paused (workers take nothing).", int(figures["paused"])),
            (gauge, "fila_dead_letters", "Messages in the dead letters.", figures["dead"]),
            (gauge, "fila_dead_letter_groups", "Groups of dead letters by error signature (GET /api/dead/groups).",
             figures["dead_groups"]),
            (gauge, "fila_scheduled", "Messages waiting for their time: delayed, or a retry's backoff.",
             figures["scheduled"]),
            (gauge, "fila_scheduled_overdue_seconds", "How late the soonest scheduled message is (0 when none is "
             "due): above a second, no worker is promoting.",
             max(0.0, time.time() - figures["next_due_at"]) if figures["next_due_at"] else 0.0),
            (counter, "fila_messages_enqueued", "Messages enqueued through the API.", figures["enqueued"]),
            (counter, "fila_messages_processed", "Messages processed and stored.", figures["done"]),
            (counter, "fila_messages_failed", "Handler failures and deaths (each retry counts).", figures["failed"]),
            (counter, "fila_messages_dead_lettered", "Messages moved to the dead letters.", figures["dead_lettered"]),
            (counter, "fila_messages_reclaimed", "Messages taken back from dead workers.", figures["reclaimed"]),
            (counter, "fila_retries", "Failed runs given another try, after their backoff.", figures["retried"]),
            (counter, "fila_expired", "Messages not run: their ttl_ms passed first (dead letters, \"expired\").",
             figures["expired"]),
            (counter, "fila_timeouts", "Runs past their timeout_ms (HANDLER_TIMEOUT_MS): the message taken back.",
             figures["timeouts"]),
            (gauge, "fila_periodic_schedules", "Periodic schedules of the queue.", figures["schedules"]),
            (counter, "fila_periodic_messages", "Messages sent by the periodic schedules (one per tick).",
             figures["periodic"]),
            (gauge, "fila_queue_rate_limit", "QUEUE_RATE_LIMIT: messages a second the workers run at most (0: none).",
             figures["rate_limit"]),
            (counter, "fila_queue_throttled", "Times a worker waited for the rate limit's next token.",
             figures["throttled"]),
            (counter, "fila_timeline_steps", "Steps written to the messages' timelines (GET "
             "/api/messages/<id>/timeline).", figures["timeline_steps"]),
            (gauge, "fila_timeline_retention_seconds", "TIMELINE_TTL: how long a timeline is kept after its last "
             "step (0: none are written).", figures["timeline_ttl"]),
            (gauge, "fila_queue_drain_seconds", "How long the backlog (waiting and in flight) takes at the last "
             "minute's completion rate; +Inf while nothing completes and something waits.",
             math.inf if figures["drain_seconds"] is None else figures["drain_seconds"]),
            (gauge, "fila_workers_wanted", "Workers that would drain the backlog within DRAIN_TARGET_SECONDS at the "
             "last minute's rate per worker (KEDA's Prometheus scaler reads it).", figures["workers_wanted"]),
            (counter, "fila_idempotent_replays", "Requests sent again with their Idempotency-Key: answered, not "
             "enqueued again.", figures["replayed"]),
            (gauge, "fila_queue_priority_length", "Messages waiting with priority high plus those with low (each in "
             "its own list; fila_queue_length counts them too).", figures["high"] + figures["low"]),
        ]


def init_app(app: Flask, services: Services) -> None:
    """Give the app its own metrics registry (no process-global state)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FilaCollector(services, app))
    app.extensions["fila_metrics"] = registry


@bp.route("/metrics")
@policy(Access.OPEN)
def metrics() -> Response:
    """Expose the metrics in Prometheus' text format.

    ---
    tags: [watch]
    responses:
      '200':
        description: The Prometheus text format.
        content:
          text/plain:
            schema: {type: string}
    """
    return Response(generate_latest(current_app.extensions["fila_metrics"]), content_type=CONTENT_TYPE_LATEST)
