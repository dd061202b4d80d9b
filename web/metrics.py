"""`/metrics` in Prometheus format, read from Redis at scrape time (the same figures as /api/queues)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from shared import timings
from web.context import Fila
from web.jobs import rq_figures

bp = Blueprint("metrics", __name__)


class FilaCollector(Collector):
    """Turn the queue's figures, the live workers, the timings and RQ's registries into metrics."""

    def __init__(self, fila: Fila):
        self.fila = fila

    def collect(self):
        """Yield every metric family (one Redis round trip per source)."""
        queue = self.fila.monitor.queue()
        name = queue["name"]
        gauges = {
            "fila_queue_length": ("Messages waiting on the queue list.", queue["length"]),
            "fila_queue_in_flight": ("Messages held by workers (their processing lists).", queue["in_flight"]),
            "fila_dead_letters": ("Messages in the dead-letter list.", queue["dead"]),
            "fila_queue_rate_per_second": ("Messages done per second over the last minute.", queue["rate_1m"]),
        }
        for metric, (doc, value) in gauges.items():
            family = GaugeMetricFamily(metric, doc, labels=["queue"])
            family.add_metric([name], value)
            yield family
        counters = {
            "fila_messages_enqueued": ("Messages enqueued through the API.", queue["enqueued"]),
            "fila_messages_processed": ("Messages processed and stored.", queue["done"]),
            "fila_messages_failed": ("Handler failures and deaths (each retry counts).", queue["failed"]),
            "fila_messages_dead_lettered": ("Messages moved to the dead-letter list.", queue["dead_lettered"]),
            "fila_messages_reclaimed": ("Messages taken back from dead workers.", queue["reclaimed"]),
        }
        for metric, (doc, value) in counters.items():
            family = CounterMetricFamily(metric, doc, labels=["queue"])
            family.add_metric([name], value)
            yield family
        workers = GaugeMetricFamily("fila_workers_live", "Message workers with a live heartbeat.", labels=["queue"])
        workers.add_metric([name], len(self.fila.monitor.workers()))
        yield workers
        buckets, total, _count = timings.read(self.fila.redis, name)
        histogram = HistogramMetricFamily("fila_processing_seconds", "Handler time per message.", labels=["queue"])
        histogram.add_metric([name], buckets, total)
        yield histogram
        rq = rq_figures(self.fila)
        jobs = GaugeMetricFamily("fila_rq_jobs", "RQ jobs per state (registry sizes).", labels=["queue", "state"])
        for state in ("queued", "started", "finished", "failed", "deferred", "scheduled"):
            jobs.add_metric([rq["name"], state], rq["length" if state == "queued" else state])
        yield jobs
        rq_workers = GaugeMetricFamily("fila_rq_workers", "RQ workers listening.", labels=["queue"])
        rq_workers.add_metric([rq["name"]], rq["workers"])
        yield rq_workers


def init_app(app: Flask, fila: Fila) -> None:
    """Give the app its own metrics registry (no process-global state)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FilaCollector(fila))
    app.extensions["fila_metrics"] = registry


@bp.route("/metrics")
def metrics():
    """Expose the metrics in Prometheus' text format."""
    return Response(generate_latest(current_app.extensions["fila_metrics"]), content_type=CONTENT_TYPE_LATEST)
