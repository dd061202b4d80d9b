"""Pausing a queue, with real workers: they finish what they hold, take nothing within a second, say so, and
the pause outlives workers and web restarts; enqueueing goes on."""

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


def test_pause_stops_taking_within_a_second_and_survives_restarts(settings, rdb):
    settings = dataclasses.replace(settings, heartbeat_ttl=1.0, log_level="INFO")
    queue = MessageQueue(connect(settings), settings)
    client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    queue.enqueue([json.dumps({"work_ms": 5, "i": i}) for i in range(400)])
    worker = start_worker(settings)
    try:
        wait_for(lambda: int(rdb.hget(keys.stats("fila"), "done") or 0) > 20, message="working")
        assert client.post("/api/queues/fila/pause").get_json() == {"queue": "fila", "paused": True}
        paused_at = time.monotonic()
        worker.wait_for_line(r"queue fila is paused: taking nothing", timeout=10)
        # What the worker held finishes, and from then on nothing moves.
        wait_for(lambda: client.get("/api/queues").get_json()["queues"][0]["in_flight"] == 0, timeout=10,
                 message="what the worker held finished")
        took = time.monotonic() - paused_at
        done = int(rdb.hget(keys.stats("fila"), "done"))
        waiting = rdb.llen("fila")
        assert waiting > 0
        (new_id,) = client.post("/api/messages", json={"body": "durante a pausa"}).get_json()["ids"]
        # Three fresh heartbeats: the worker is alive and looping (it polls the pause every 0.25 s, a beat
        # is every 0.33 s), long enough for a running worker to have taken hundreds; it took none.
        beats = []

        def beating() -> bool:
            (state,) = client.get("/api/workers").get_json()["workers"]
            if not beats or state["heartbeat_at"] > beats[-1]:
                beats.append(state["heartbeat_at"])
            return len(beats) > 3
        wait_for(beating, timeout=10, interval=0.05, message="three heartbeats while paused")
        assert int(rdb.hget(keys.stats("fila"), "done")) == done and rdb.llen("fila") == waiting + 1
        print(f"paused: nothing held {took:.2f}s after the pause")
        figures = client.get("/api/queues").get_json()["queues"][0]
        assert figures["paused"] and figures["oldest_age_s"] > 0
        # A restarted worker, and a new web app, find the queue still paused.
        assert worker.stop() == 0
        worker = start_worker(settings)
        worker.wait_for_line(r"queue fila is paused", timeout=10)
        fresh_web = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
        assert fresh_web.get("/api/queues").get_json()["queues"][0]["paused"] is True
        assert fresh_web.post("/api/queues/fila/resume").get_json()["paused"] is False
        worker.wait_for_line(r"queue fila resumed after", timeout=10)
        wait_for(lambda: client.get(f"/api/messages/{new_id}").get_json()["status"] == "done", timeout=30,
                 message="the message sent during the pause done after it")
    finally:
        worker.stop()
    assert client.post("/api/queues/outra/pause").status_code == 404
