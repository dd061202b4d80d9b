"""QUEUE_RATE_LIMIT on real workers: four workers together hold to the limit, within 10%."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from shared.core import keys
from shared.core.connection import connect
from shared.messages.queue import MessageQueue
from tests.support.polling import wait_for
from tests.support.processes import start_worker
from web import create_app

pytestmark = pytest.mark.slow


def done(rdb) -> int:
    return int(rdb.hget(keys.stats("fila"), "done") or 0)


def test_four_workers_hold_to_a_thousand_a_second(settings, rdb):
    limited = dataclasses.replace(settings, queue_rate_limit=1000.0, log_messages=False)
    queue = MessageQueue(connect(limited), limited)
    for start in range(0, 9000, 3000):
        queue.enqueue([json.dumps({"i": i}) for i in range(start, start + 3000)])
    workers = [start_worker(limited) for _ in range(4)]
    try:
        wait_for(lambda: done(rdb) >= 1000, timeout=20, interval=0.01, message="a first thousand")
        first, began = done(rdb), time.monotonic()
        wait_for(lambda: done(rdb) >= first + 5000, timeout=20, interval=0.01, message="five thousand more")
        rate = (done(rdb) - first) / (time.monotonic() - began)
        wait_for(lambda: done(rdb) == 9000, timeout=20, interval=0.05, message="all of them")
    finally:
        for proc in workers:
            proc.stop()
    print(f"\nQUEUE_RATE_LIMIT=1000, 4 workers: {rate:,.0f} msg/s over 5,000 messages")
    assert 900 <= rate <= 1100
    assert int(rdb.hget(keys.stats("fila"), "throttled")) > 0  # the workers did wait for tokens
    client = create_app({"SETTINGS": limited, "TESTING": True}).test_client()
    assert client.get("/api/queues").get_json()["queues"][0]["rate_limit"] == 1000.0
    assert 'fila_queue_rate_limit{queue="fila"} 1000.0' in client.get("/metrics").get_data(as_text=True)
