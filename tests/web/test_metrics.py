"""/metrics agrees with /api/queues, with real workers moving real messages."""

from __future__ import annotations

import dataclasses

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.polling import wait_for
from tests.support.processes import start_worker

pytestmark = pytest.mark.slow


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_agree_with_the_queue_api(client, settings, rdb):
    worker_settings = dataclasses.replace(settings, heartbeat_ttl=0.6, handler="tests.support.handlers:poison",
                                          max_attempts=1)
    bodies = [{"body": {"text": f"m{i}"}} for i in range(120)] + [{"body": {"poison": "raise"}}]
    client.post("/api/messages", json=bodies)
    worker = start_worker(worker_settings)
    try:
        wait_for(lambda: client.get("/api/queues").get_json()["queues"][0]["done"] == 120, message="120 done")
        wait_for(lambda: scrape(client)[("fila_processing_seconds_count", (("queue", "fila"),))] == 121,
                 message="timings flushed by the heartbeat")
        assert scrape(client)[("fila_workers_live", (("queue", "fila"),))] == 1
    finally:
        code = worker.stop()
    assert code == 0
    # With the worker gone the figures hold still while they are compared.
    client.post("/api/messages", json=[{"body": i} for i in range(7)])
    api = client.get("/api/queues").get_json()["queues"]
    messages, rq = api[0], api[1]
    metrics = scrape(client)
    label = (("queue", "fila"),)
    assert metrics[("fila_queue_length", label)] == messages["length"] == 7
    assert metrics[("fila_queue_in_flight", label)] == messages["in_flight"] == 0
    assert metrics[("fila_messages_enqueued_total", label)] == messages["enqueued"] == 128
    assert metrics[("fila_messages_processed_total", label)] == messages["done"]
    assert metrics[("fila_messages_dead_lettered_total", label)] == messages["dead_lettered"] == 1
    assert metrics[("fila_dead_letters", label)] == messages["dead"] == 1
    assert metrics[("fila_workers_live", label)] == 0
    assert metrics[("fila_processing_seconds_bucket", (("le", "+Inf"), ("queue", "fila")))] >= 121
    assert metrics[("fila_rq_jobs", (("queue", "fib"), ("state", "queued")))] == rq["length"]
    assert metrics[("fila_rq_workers", (("queue", "fib"),))] == rq["workers"]
