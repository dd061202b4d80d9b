"""`/metrics` in Prometheus format, read from Redis at scrape time (the same figures as /api/queues)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from shared import timings
from web.services import Services

bp = Blueprint("metrics", __name__)


class FilaCollector(Collector):
    """Turn the queue's figures, the live workers, the timings and RQ's registries into metrics."""

    def __init__(self, services: Services):
        self.services = services

    def collect(self) -> Iterator[Metric]:
        """Yield every metric family (one Redis round trip per source)."""
        figures = self.services.monitor.figures()
        name = figures["name"]
        gauge, counter = GaugeMetricFamily, CounterMetricFamily
        families = (
            (gauge, "fila_queue_length", "Messages waiting on the queue list.", figures["length"]),
            (gauge, "fila_queue_in_flight", "Messages held by workers (their processing lists).", figures["in_flight"]),
            (gauge, "fila_dead_letters", "Messages in the dead-letter list.", figures["dead"]),
            (gauge, "fila_queue_rate_per_second", "Messages done per second over the last minute.", figures["rate_1m"]),
            (counter, "fila_messages_enqueued", "Messages enqueued through the API.", figures["enqueued"]),
            (counter, "fila_messages_processed", "Messages processed and stored.", figures["done"]),
            (counter, "fila_messages_failed", "Handler failures and deaths (each retry counts).", figures["failed"]),
            (counter, "fila_messages_dead_lettered", "Messages moved to the dead letters.", figures["dead_lettered"]),
            (counter, "fila_messages_reclaimed", "Messages taken back from dead workers.", figures["reclaimed"]),
        )
        for kind, metric, doc, value in families:
            family = kind(metric, doc, labels=["queue"])
            family.add_metric([name], value)
            yield family
        workers = GaugeMetricFamily("fila_workers_live", "Message workers with a live heartbeat.", labels=["queue"])
        workers.add_metric([name], len(self.services.monitor.workers()))
        yield workers
        buckets, total, _count = timings.read(self.services.redis, name)
        histogram = HistogramMetricFamily("fila_processing_seconds", "Handler time per message.", labels=["queue"])
        histogram.add_metric([name], buckets, total)
        yield histogram
        rq = self.services.jobs.figures()
        jobs = GaugeMetricFamily("fila_rq_jobs", "RQ jobs per state (registry sizes).", labels=["queue", "state"])
        for state in ("queued", "started", "finished", "failed", "deferred", "scheduled"):
            jobs.add_metric([rq["name"], state], rq["length" if state == "queued" else state])
        yield jobs
        rq_workers = GaugeMetricFamily("fila_rq_workers", "RQ workers listening.", labels=["queue"])
        rq_workers.add_metric([rq["name"]], rq["workers"])
        yield rq_workers


def init_app(app: Flask, services: Services) -> None:
    """Give the app its own metrics registry (no process-global state)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FilaCollector(services))
    app.extensions["fila_metrics"] = registry


@bp.route("/metrics")
def metrics() -> Response:
    """Expose the metrics in Prometheus' text format."""
    return Response(generate_latest(current_app.extensions["fila_metrics"]), content_type=CONTENT_TYPE_LATEST)
