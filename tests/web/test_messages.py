"""The producer API against a real redis-server (no worker running)."""

from __future__ import annotations

import json

import pytest

from shared.core import keys
from shared.messages.queue import MessageQueue


def test_single_message_is_enqueued_as_an_envelope(client, rdb):
    response = client.post("/api/messages", json={"body": {"text": "olá", "n": 1}})
    assert response.status_code == 202
    reply = response.get_json()
    (message_id,) = reply["ids"]
    assert response.headers["Location"] == f"/api/messages/{message_id}"
    (entry,) = rdb.lrange("fila", 0, -1)
    envelope = json.loads(entry)
    assert envelope["id"] == message_id and envelope["attempts"] == 0 and envelope["body"] == {"text": "olá", "n": 1}
    status = client.get(f"/api/messages/{message_id}").get_json()
    assert status["status"] == "queued" and status["attempts"] == 0


def test_batch_goes_in_one_call_in_order(client, rdb):
    reply = client.post("/api/messages", json=[{"body": i} for i in range(250)]).get_json()
    assert reply["count"] == 250 and len(set(reply["ids"])) == 250
    # The consumer end (right) holds the first message: the list, read from there, is the batch in order.
    consumed_in = [json.loads(e) for e in reversed(rdb.lrange("fila", 0, -1))]
    assert [e["id"] for e in consumed_in] == reply["ids"]
    assert [e["body"] for e in consumed_in] == list(range(250))
    assert rdb.llen("fila") == 250
    assert int(rdb.hget(keys.stats("fila"), "enqueued")) == 250


def test_text_plain_one_message_per_line(client, rdb):
    reply = client.post("/api/messages", data="primeira linha\n\nsegunda linha\n", content_type="text/plain")
    assert reply.status_code == 202 and reply.get_json()["count"] == 2
    assert [json.loads(e)["body"] for e in rdb.lrange("fila", 0, -1)] == ["segunda linha", "primeira linha"]


@pytest.mark.parametrize(("kwargs", "status"), [
    ({"data": b"", "content_type": "application/json"}, 400),
    ({"data": b"{not json", "content_type": "application/json"}, 400),
    ({"json": {"text": "no body key"}}, 400),
    ({"json": [{"body": 1}, "x"]}, 400),
    ({"json": []}, 400),
    ({"data": b"\n\n", "content_type": "text/plain"}, 400),
    ({"data": b"x", "content_type": "application/xml"}, 415),
    ({"json": {"body": "x" * 70000}}, 413),
    ({"json": [{"body": i} for i in range(10001)]}, 413),
])
def test_bad_input_enqueues_nothing(client, rdb, kwargs, status):
    response = client.post("/api/messages", **kwargs)
    assert response.status_code == status
    assert response.get_json()["error"]
    assert rdb.llen("fila") == 0


def test_request_over_the_size_limit_is_413(settings, rdb):
    import dataclasses

    from web import create_app

    small = create_app({"SETTINGS": dataclasses.replace(settings, request_max_bytes=1000), "TESTING": True})
    response = small.test_client().post("/api/messages", json={"body": "x" * 2000})
    assert response.status_code == 413
    assert rdb.llen("fila") == 0


def test_unknown_and_malformed_ids(client):
    assert client.get("/api/messages/01M8AHHRWGX0RFY15DASA1TB9J").status_code == 404
    assert client.get("/api/messages/not-an-id").status_code == 400


def test_queues_and_workers_when_idle(client):
    client.post("/api/messages", json=[{"body": 1}, {"body": 2}])
    queues = {q["name"]: q for q in client.get("/api/queues").get_json()["queues"]}
    assert queues["fila"]["length"] == 2 and queues["fila"]["in_flight"] == 0 and queues["fila"]["done"] == 0
    assert queues["fib"]["kind"] == "rq"
    assert client.get("/api/workers").get_json() == {"workers": []}


def test_dead_letters_listed_and_requeued(client, rdb, settings):
    queue = MessageQueue(client.application.extensions["fila"].redis, settings)
    ids = queue.enqueue(['"a"', '"b"'])
    worker = "w1"
    assert len(queue.take(worker, 10)) == 2
    # The worker keeps dying with them in hand: each reclaim adds an attempt. A redelivered
    # message is taken alone, so it takes a round per message per attempt.
    rounds = 0
    while rdb.zcard(keys.dead_index("fila")) < 2:
        queue.reclaim(worker, "worker died")
        taken = queue.take(worker, 10)
        assert len(taken) <= 1
        rounds += 1
    assert rounds == 2 * (settings.max_attempts - 1) + 1
    dead = client.get("/api/dead").get_json()["dead"]
    assert sorted(d["id"] for d in dead) == sorted(ids)
    assert all(d["attempts"] == settings.max_attempts and d["error"] == "worker died" for d in dead)
    assert client.get(f"/api/messages/{ids[0]}").get_json()["status"] == "dead"
    assert client.post("/api/dead/requeue", json={"ids": [ids[0]]}).get_json() == {"requeued": 1}
    every = client.post("/api/dead/requeue", json={"all": True}).get_json()
    assert every["requeued"] == 1 and every["remaining"] == 0
    assert rdb.zcard(keys.dead_index("fila")) == 0 and rdb.llen("fila") == 2
    assert all(json.loads(e)["attempts"] == 0 for e in rdb.lrange("fila", 0, -1))
    assert client.post("/api/dead/requeue", json={}).status_code == 400
    assert client.post("/api/dead/requeue", json={"ids": ["../x"]}).status_code == 400


@pytest.mark.parametrize("item", [
    {"body": 1, "delay_ms": 5, "not_before": "2030-01-01T00:00:00Z"},  # both
    {"body": 1, "delay_ms": -1},
    {"body": 1, "delay_ms": 30 * 86400 * 1000 + 1},  # past the shipped DELAY_MAX_MS
    {"body": 1, "delay_ms": 10**40},
    {"body": 1, "delay_ms": "5"},
    {"body": 1, "not_before": "2030-01-01T00:00:00"},  # no offset: whose midnight?
    {"body": 1, "not_before": "2999-01-01T00:00:00Z"},  # past DELAY_MAX_MS
    {"body": 1, "ttl_ms": 0},
    {"body": 1, "max_attempts": 0},
    {"body": 1, "max_attempts": 101},
    {"body": 1, "retry_base_ms": -5},
])
def test_bad_schedule_options_are_400_and_store_nothing(client, rdb, item):
    reply = client.post("/api/messages", json=[{"body": "fine", "delay_ms": 1000}, item])
    assert reply.status_code == 400 and reply.get_json()["error"] in {"bad_schedule"}, reply.get_json()
    assert rdb.dbsize() == 0


def test_batch_options_in_the_query_string_apply_to_every_line(client, rdb):
    reply = client.post("/api/messages?delay_ms=60000&max_attempts=2", data="um\ndois\n", content_type="text/plain")
    assert reply.status_code == 202
    ids = reply.get_json()["ids"]
    assert rdb.llen("fila") == 0 and rdb.zcard(keys.scheduled("fila")) == 2
    shown = [client.get(f"/api/messages/{i}").get_json() for i in ids]
    assert {s["status"] for s in shown} == {"scheduled"}
    envelopes = [json.loads(e) for e in rdb.hvals(keys.scheduled_envelopes("fila"))]
    assert {e["opts"]["max_attempts"] for e in envelopes} == {2}
    assert client.post("/api/messages?delay_ms=x", data="um", content_type="text/plain").status_code == 400


def test_a_message_due_now_or_in_the_past_is_queued_at_once(client, rdb):
    reply = client.post("/api/messages", json=[{"body": 1, "delay_ms": 0},
                                               {"body": 2, "not_before": "2020-01-01T00:00:00+00:00"}])
    assert reply.status_code == 202 and rdb.llen("fila") == 2 and rdb.zcard(keys.scheduled("fila")) == 0
