"""Idempotent enqueue (the Idempotency-Key header) against a real redis-server, and under lost replies."""

from __future__ import annotations

import json

import pytest

from shared.core import keys
from shared.messages import lua
from shared.messages.idempotency import ONCE_MAX, key_digest
from tests.support.cutting_proxy import CuttingProxy
from web import create_app


def test_the_same_key_and_request_answer_the_first_ids_and_enqueue_nothing_more(client, rdb, settings):
    first = client.post("/api/messages", json=[{"body": 1}, {"body": 2, "delay_ms": 60_000}],
                        headers={"Idempotency-Key": "pedido-42"})
    assert first.status_code == 202 and "Idempotent-Replayed" not in first.headers
    again = client.post("/api/messages", json=[{"body": 1}, {"body": 2, "delay_ms": 60_000}],
                        headers={"Idempotency-Key": "pedido-42"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert rdb.llen("fila") == 1 and rdb.zcard(keys.scheduled("fila")) == 1  # enqueued once
    stored = keys.idempotency("fila", key_digest("pedido-42"))
    assert 0 < rdb.ttl(stored) <= settings.idempotency_ttl
    assert "pedido-42" not in "".join(rdb.keys("*"))  # the key is stored hashed
    figures = client.get("/api/queues").get_json()["queues"][0]
    assert figures["enqueued"] == 2 and figures["replayed"] == 1
    assert "fila_idempotent_replays_total{queue=\"fila\"} 1.0" in client.get("/metrics").get_data(as_text=True)


def test_the_same_key_with_another_request_is_422_and_changes_nothing(client, rdb):
    assert client.post("/api/messages", json={"body": 1}, headers={"Idempotency-Key": "k"}).status_code == 202
    before = {key: rdb.dump(key) for key in rdb.keys("*") if not key.startswith(keys.stats("fila"))}
    for other in ({"json": {"body": 2}}, {"data": "1", "content_type": "text/plain"}):
        reply = client.post("/api/messages", headers={"Idempotency-Key": "k"}, **other)
        assert reply.status_code == 422 and reply.get_json()["error"] == "idempotency_key_reused"
    reply = client.post("/api/messages?delay_ms=5", json={"body": 1}, headers={"Idempotency-Key": "k"})
    assert reply.status_code == 422  # the query is part of the request
    assert {key: rdb.dump(key) for key in rdb.keys("*") if not key.startswith(keys.stats("fila"))} == before
    assert client.post("/api/messages", json={"body": 1}).status_code == 202  # no key: as always


@pytest.mark.parametrize("key", ["", " x", "a" * 256, "ção", "x\x01y", '"'])
def test_a_bad_key_is_400_and_stores_nothing(client, rdb, key):
    reply = client.post("/api/messages", json={"body": 1}, headers={"Idempotency-Key": key})
    assert reply.status_code == 400 and reply.get_json()["error"] == "bad_idempotency_key", key
    assert rdb.dbsize() == 0


def test_a_quoted_key_is_the_same_key(client, rdb):
    first = client.post("/api/messages", json={"body": 1}, headers={"Idempotency-Key": '"abc"'}).get_json()
    again = client.post("/api/messages", json={"body": 1}, headers={"Idempotency-Key": "abc"})
    assert again.status_code == 200 and again.get_json() == first


def test_an_idempotent_request_holds_at_most_once_max_messages(client, rdb):
    reply = client.post("/api/messages", json=[{"body": i} for i in range(ONCE_MAX + 1)],
                        headers={"Idempotency-Key": "grande"})
    assert reply.status_code == 413 and rdb.dbsize() == 0
    reply = client.post("/api/messages", json=[{"body": i} for i in range(ONCE_MAX)],
                        headers={"Idempotency-Key": "grande"})
    assert reply.status_code == 202 and rdb.llen("fila") == ONCE_MAX


def test_lost_replies_and_a_client_retrying_a_503_enqueue_once(settings, rdb, redis_server):
    """The reply of ENQUEUE_ONCE is cut: redis-py sends it again and finds its own ids (202); cut twice,
    the web answers 503 and the client sends the request again with its key: the first ids, 200."""
    proxy = CuttingProxy(redis_server.port, {"ENQUEUE_ONCE": lua.ENQUEUE_ONCE})
    try:
        routed = settings.__class__(**{**settings.__dict__, "redis_url": f"redis://127.0.0.1:{proxy.port}/0"})
        client = create_app({"SETTINGS": routed, "TESTING": True}).test_client()
        client.post("/api/messages", json={"body": "aquecer"})  # the script loaded before the cuts
        proxy.arm("ENQUEUE_ONCE")
        once = client.post("/api/messages", json={"body": "uma vez"}, headers={"Idempotency-Key": "perdida"})
        assert once.status_code == 202 and proxy.cuts["ENQUEUE_ONCE"] == 1
        proxy.arm("ENQUEUE_ONCE", 2)
        refused = client.post("/api/messages", json={"body": "duas"}, headers={"Idempotency-Key": "retry"})
        assert refused.status_code == 503 and proxy.cuts["ENQUEUE_ONCE"] == 3
        again = client.post("/api/messages", json={"body": "duas"}, headers={"Idempotency-Key": "retry"})
        assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        bodies = [json.loads(entry)["body"] for entry in rdb.lrange("fila", 0, -1)]
        assert sorted(bodies) == ["aquecer", "duas", "uma vez"]  # each once: none lost, none twice
    finally:
        proxy.close()
