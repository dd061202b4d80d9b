"""A message's timeline on real workers and a real redis-server: each step, who made it, the commands it used."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time

import pytest

from shared.core import keys
from shared.core.ids import id_second
from shared.messages.queue import MessageQueue
from shared.messages.schedule import Options
from shared.messages.timeline import STEPS_MAX, Step, Timeline, step
from tests.support.polling import wait_for
from tests.support.processes import BIN, child_env, start_worker
from tests.worker.test_workers import all_done, statuses
from web import create_app

pytestmark = pytest.mark.slow

RECORDING = "tests.support.handlers:recording"


def kinds(told: dict) -> list[str]:
    """Return the kinds of a timeline's steps, oldest first."""
    return [found["step"] for found in told["steps"]]


def told(client, message_id: str) -> dict:
    """GET a message's timeline (200 expected)."""
    answer = client.get(f"/api/messages/{message_id}/timeline")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_a_done_messages_timeline_says_who_sent_it_who_took_it_and_the_commands_used(client, settings, rdb):
    worker = start_worker(settings, "--name", "w-timeline")
    try:
        answer = client.post("/api/messages", json={"body": {"text": "olá"}})
        assert answer.status_code == 202
        (message_id,) = answer.get_json()["ids"]
        wait_for(lambda: all_done(rdb, [message_id]), timeout=15, message="the message done")
        shown = wait_for(lambda: (found := told(client, message_id))["count"] == 3 and found, timeout=5,
                         message="three steps")
    finally:
        worker.stop()
    assert kinds(shown) == ["enqueued", "taken", "done"] and shown["complete"]
    enqueued, taken, done = shown["steps"]
    assert (enqueued["route"], enqueued["by"], enqueued["queue"]) == ("POST /api/messages", "client 127.0.0.1", "fila")
    assert enqueued["redis"]["script"] == "ENQUEUE (lua/enqueue.lua)"
    assert enqueued["redis"]["commands"][0] == "LPUSH fila <envelope>"
    assert f"HSET {keys.pending('fila')} {message_id} ''" in enqueued["redis"]["commands"]
    # A first run that is done is told from its record: the worker wrote nothing (the hot path's cost).
    assert (taken["worker"], taken["attempt"], taken["derived"], done["derived"]) == ("w-timeline", 1, True, True)
    assert len(Timeline(rdb, settings).read(message_id)) == 1 and "via" not in taken
    assert any("fila:processing:w-timeline" in command for command in taken["redis"]["commands"])
    assert f"HSET {keys.pending('fila')} {message_id} w-timeline" in taken["redis"]["commands"]
    assert done["worker"] == "w-timeline" and done["ms"] >= 0 and done["redis"]["script"] == "SETTLE (lua/settle.lua)"
    assert enqueued["at"] <= taken["at"] <= done["at"] and done["says"].startswith("done by w-timeline in ")
    assert shown["now"]["status"] == "done" and shown["retention_s"] == settings.timeline_ttl == 3600
    assert 3590 < rdb.ttl(keys.timeline(id_second(message_id))) <= 3600  # the shipped retention
    figures = client.get("/api/queues").get_json()["queues"][0]
    assert (figures["timeline_steps"], figures["timeline_ttl"]) == (1, 3600)
    scraped = client.get("/metrics").get_data(as_text=True)
    assert 'fila_timeline_steps_total{queue="fila"} 1.0' in scraped
    assert 'fila_timeline_retention_seconds{queue="fila"} 3600.0' in scraped
    # Each time is its `at` in ISO 8601.
    assert all(found["time"].endswith("Z") and found["time"][:4] == time.strftime("%Y") for found in shown["steps"])


def test_a_message_that_fails_dies_and_is_requeued_tells_each_attempt_and_who_requeued_it(client, settings, rdb):
    poisoned = dataclasses.replace(settings, handler="tests.support.handlers:poison", log_messages=False)
    (message_id,) = MessageQueue(rdb, poisoned).enqueue(
        [json.dumps({"poison": "raise"})], [Options(max_attempts=2, retry_base_ms=1)])
    worker = start_worker(poisoned, "--name", "w-poison")
    try:
        wait_for(lambda: statuses(rdb, [message_id])[0].get("status") == "dead", timeout=15, message="dead")
    finally:
        worker.stop()
    shown = told(client, message_id)
    assert kinds(shown) == ["enqueued", "taken", "failed", "taken", "dead"]
    failed, dead = shown["steps"][2], shown["steps"][4]
    assert (failed["attempt"], failed["error"], dead["attempt"]) == (1, "RuntimeError: poison message", 2)
    assert "RuntimeError: poison message" in failed["says"] and dead["says"].startswith("dead-lettered after attempt 2")
    assert f"ZADD {keys.dead_index('fila')} <now ms> {message_id}" in dead["redis"]["commands"]
    assert client.post("/api/dead/requeue", json={"ids": [message_id]}).get_json()["requeued"] == 1
    requeued = told(client, message_id)["steps"][-1]
    assert (requeued["step"], requeued["by"]) == ("requeued", "client 127.0.0.1")
    assert requeued["redis"]["script"] == "REQUEUE_DEAD (lua/requeue_dead.lua)"


def test_a_delayed_message_is_scheduled_then_promoted_then_run(client, settings, rdb):
    answer = client.post("/api/messages", json={"body": "later", "delay_ms": 300})
    (message_id,) = answer.get_json()["ids"]
    worker = start_worker(dataclasses.replace(settings, worker_block_timeout=0.2))
    try:
        wait_for(lambda: all_done(rdb, [message_id]), timeout=15, message="the delayed message done")
        shown = wait_for(lambda: (found := told(client, message_id))["count"] == 4 and found, timeout=5)
    finally:
        worker.stop()
    assert kinds(shown) == ["scheduled", "promoted", "taken", "done"]
    scheduled, promoted = shown["steps"][:2]
    assert scheduled["due_at"] <= promoted["at"] and scheduled["redis"]["commands"][0].startswith("ZADD fila:scheduled")
    assert promoted["redis"]["script"] == "PROMOTE (lua/promote.lua)"


def test_a_cancelled_message_says_who_cancelled_it(client, settings, rdb):
    message_id = client.post("/api/messages", json={"body": "x", "delay_ms": 60_000}).get_json()["ids"][0]
    assert client.delete(f"/api/scheduled/{message_id}").status_code == 204
    assert kinds(told(client, message_id)) == ["scheduled", "cancelled"]


def test_a_worker_killed_holding_a_message_is_named_by_the_reaper_that_put_it_back(settings, rdb):
    timed = dataclasses.replace(settings, heartbeat_ttl=1.0, worker_block_timeout=0.5, handler=RECORDING)
    (message_id,) = MessageQueue(rdb, timed).enqueue([json.dumps({"key": "held", "sleep": 30})])
    victim = start_worker(timed, "--name", "w-victim")
    wait_for(lambda: rdb.llen(keys.processing("w-victim")) == 1, timeout=10, message="the message held")
    victim.kill()
    reaper = start_worker(dataclasses.replace(timed, handler=settings.handler), "--name", "w-reaper")  # no sleep
    try:
        wait_for(lambda: all_done(rdb, [message_id]), timeout=15, message="the reaper's worker runs it again")
    finally:
        reaper.stop()
    shown = told(create_app({"SETTINGS": timed, "TESTING": True}).test_client(), message_id)
    # A run's `taken` is written with its end (one round trip a batch): the victim's run, cut short, shows
    # as the reaper's `reclaimed`, which names it.
    assert kinds(shown) == ["enqueued", "reclaimed", "taken", "done"]
    reclaimed = shown["steps"][1]
    assert (reclaimed["from"], reclaimed["by"], reclaimed["attempt"]) == ("w-victim", "w-reaper", 1)
    assert "LRANGE fila:processing:w-victim 0 <chunk>" in reclaimed["redis"]["commands"]
    assert reclaimed["says"].startswith("its worker w-victim died holding it: w-reaper put it back")
    rerun = shown["steps"][2]
    assert (rerun["worker"], rerun["attempt"], rerun["batch"]) == ("w-reaper", 2, 1) and "derived" not in rerun
    assert rerun["via"] in ("TAKE", "BLMOVE")  # a second run is written by its worker, with how it was taken


def test_a_handler_past_its_timeout_is_taken_back_by_the_watchdog(client, settings, rdb):
    timed = dataclasses.replace(settings, heartbeat_ttl=1.0, worker_block_timeout=0.5, handler=RECORDING)
    (message_id,) = MessageQueue(rdb, timed).enqueue([json.dumps({"key": "hung", "hang": True})],
                                                     [Options(timeout_ms=300, max_attempts=1)])
    worker = start_worker(timed, "--name", "w-hung")
    try:
        wait_for(lambda: statuses(rdb, [message_id])[0].get("status") == "dead", timeout=15, message="dead")
    finally:
        worker.stop()
    shown = told(client, message_id)
    assert kinds(shown) == ["enqueued", "taken", "timed_out", "dead"]
    timed_out, dead = shown["steps"][2:]
    assert timed_out["worker"] == "w-hung" and timed_out["ms"] >= 300
    assert (dead["after"], dead["error"]) == ("timed_out", "timeout") and dead["redis"]["script"] == \
        "ABANDON (lua/abandon.lua)"


def test_with_timeline_ttl_0_no_step_is_written_and_the_route_still_answers(settings, rdb):
    off = dataclasses.replace(settings, timeline_ttl=0)
    client = create_app({"SETTINGS": off, "TESTING": True}).test_client()
    worker = start_worker(off)
    try:
        message_id = client.post("/api/messages", json={"body": "x"}).get_json()["ids"][0]
        wait_for(lambda: all_done(rdb, [message_id]), timeout=15, message="done")
    finally:
        worker.stop()
    assert not rdb.keys("fila:timeline:*") and client.get("/api/queues").get_json()["queues"][0]["timeline_steps"] == 0
    shown = told(client, message_id)
    # Only what the record tells: its last run.
    assert kinds(shown) == ["taken", "done"] and all(found["derived"] for found in shown["steps"])
    assert shown["now"]["status"] == "done" and not shown["complete"]


def test_an_unknown_or_malformed_id_is_refused(client):
    assert client.get("/api/messages/01JD3V6Q1Y8X6N5K2Z7W4R3T9M/timeline").status_code == 404
    assert client.get("/api/messages/nope/timeline").status_code == 400


def test_a_timeline_keeps_its_last_steps_max_steps_and_its_ttl(settings, rdb):
    timeline = Timeline(rdb, settings)
    message_id = "01JD3V6Q1Y8X6N5K2Z7W4R3T9M"
    neighbour = message_id[:10] + "0" * 16  # made in the same millisecond: the same hash
    timeline.note([(neighbour, step(Step.ENQUEUED, 0, queue="fila"))])
    timeline.note((message_id, step(Step.TAKEN, n, worker=f"w-{n}")) for n in range(STEPS_MAX - 4))
    timeline.note((message_id, step(Step.TAKEN, n, worker=f"w-{n}")) for n in range(STEPS_MAX - 4, STEPS_MAX + 10))
    kept = timeline.read(message_id)
    assert len(kept) == STEPS_MAX and kept[0]["worker"] == "w-10" and kept[-1]["worker"] == f"w-{STEPS_MAX + 9}"
    assert [found["step"] for found in timeline.read(neighbour)] == ["enqueued"]
    assert rdb.hlen(keys.timeline(id_second(message_id))) == 2  # one hash a second, a field a message
    assert 0 < rdb.pttl(keys.timeline(id_second(message_id))) <= settings.timeline_ttl * 1000


def test_fila_explain_prints_the_steps_and_their_commands(client, settings, rdb):
    (message_id,) = MessageQueue(rdb, settings).enqueue([json.dumps({"text": "x"})],
                                                         origin={"route": "POST /api/messages", "by": "token lab"})
    env = child_env(settings, {"LANG": "C.UTF-8"})
    shown = subprocess.run([str(BIN / "fila"), "explain", message_id], env=env, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert shown[0] == f"message {message_id} on fila: queued"
    assert shown[1].endswith("enqueued on fila by token lab (POST /api/messages)")
    assert shown[2].strip() == "ENQUEUE (lua/enqueue.lua)" and shown[3].strip() == "LPUSH fila <envelope>"
    as_json = subprocess.run([str(BIN / "fila"), "explain", message_id, "--json"], env=env, capture_output=True,
                             text=True, check=True).stdout
    assert json.loads(as_json) == told(client, message_id) | {"now": json.loads(as_json)["now"]}
    unknown = subprocess.run([str(BIN / "fila"), "explain", "01JD3V6Q1Y8X6N5K2Z7W4R3T9M"], env=env,
                             capture_output=True, text=True)
    assert unknown.returncode == 1 and "nothing is known" in unknown.stderr
    bad = subprocess.run([str(BIN / "fila"), "explain", "nope"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "not a message id" in bad.stderr


def test_a_message_sent_and_cancelled_with_a_token_names_the_token_in_both_steps(client):
    made = client.post("/api/tokens", json={"name": "turma-a", "ttl": 60}).get_json()
    sent = client.post("/api/queues/fila/messages", json={"body": "x", "delay_ms": 60_000},
                       headers={"Authorization": f"Bearer {made['token']}"})
    (message_id,) = sent.get_json()["ids"]
    scheduled = told(client, message_id)["steps"][0]
    assert scheduled["by"] == f"token {made['id']} (turma-a)" and scheduled["route"] == "POST /api/queues/fila/messages"
    assert client.delete(f"/api/scheduled/{message_id}", headers={"Authorization": f"Bearer {made['token']}"}) \
        .status_code == 204
    assert told(client, message_id)["steps"][-1]["by"] == f"token {made['id']} (turma-a)"


def test_a_batch_sent_with_an_idempotency_key_starts_each_timeline_with_its_own_first_step(client):
    batch = [{"body": "now"}, {"body": "later", "delay_ms": 60_000}, {"body": "up", "priority": "high"}]
    sent = client.post("/api/messages", headers={"Idempotency-Key": "lote-1"}, json=batch)
    now, later, high = sent.get_json()["ids"]
    first = {message_id: told(client, message_id)["steps"][0] for message_id in (now, later, high)}
    assert (first[now]["step"], first[now]["via"], first[now]["list"]) == ("enqueued", "ENQUEUE_ONCE", "fila")
    assert first[later]["step"] == "scheduled" and first[later]["due_at"] > first[later]["at"] + 59
    assert (first[high]["priority"], first[high]["list"]) == ("high", keys.high("fila"))
    assert first[high]["redis"]["script"] == "ENQUEUE_ONCE (lua/enqueue_once.lua)"
