"""Named queues (QUEUES) on real workers and a real Redis: routes, priority order, weights, bells, reaping."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from shared.core import keys
from shared.core.connection import connect
from shared.core.settings import Settings
from shared.messages.queue import MessageQueue
from shared.messages.schedule import Options
from tests.support.polling import wait_for
from tests.support.processes import start_worker
from web import create_app

pytestmark = pytest.mark.slow

QUEUES = ("fila", "alta", "baixa")


@pytest.fixture
def named(settings: Settings) -> Settings:
    return Settings.from_env({**settings.env(), "QUEUES": ",".join(QUEUES), "LOG_MESSAGES": "0",
                              "QUEUE_ALTA_MAX_ATTEMPTS": "2", "QUEUE_ALTA_RETRY_BASE_MS": "0"})


def done(rdb, queue: str) -> int:
    return int(rdb.hget(keys.stats(queue), "done") or 0)


def blocked(rdb, command: str) -> None:
    """Wait until a client of this Redis waits in `command` (a worker gone idle)."""
    wait_for(lambda: any(c.get("cmd") == command for c in rdb.client_list()), timeout=10,
             message=f"a worker blocked in {command}")


def finished(client, ids: list[str]) -> list[float]:
    return [client.get(f"/api/messages/{i}").get_json()["finished_at"] for i in ids]


def test_each_named_queue_takes_its_own_messages_and_old_clients_see_no_change(named, rdb):
    client = create_app({"SETTINGS": named, "TESTING": True}).test_client()
    plain = client.post("/api/messages", json={"body": "no queue named"})
    assert plain.status_code == 202 and plain.get_json()["queue"] == "fila"
    by_path = client.post("/api/queues/alta/messages", json=[{"body": 1}, {"body": 2}])
    assert by_path.status_code == 202 and by_path.get_json()["queue"] == "alta"
    by_field = client.post("/api/messages", json={"body": 3, "queue": "baixa"})
    assert by_field.get_json()["queue"] == "baixa"
    by_query = client.post("/api/messages?queue=alta", data="a line\n", content_type="text/plain")
    assert by_query.get_json()["queue"] == "alta"
    assert [rdb.llen(q) for q in QUEUES] == [1, 3, 1]
    before = {key: rdb.type(key) for key in rdb.keys("*")}
    for path, payload, status in (("/api/queues/nope/messages", {"body": 1}, 404),
                                  ("/api/messages", {"body": 1, "queue": "nope"}, 404),
                                  ("/api/messages", [{"body": 1, "queue": "alta"}, {"body": 2, "queue": "baixa"}], 400),
                                  ("/api/queues/alta/messages", {"body": 1, "queue": "baixa"}, 400),
                                  ("/api/messages", {"body": 1, "queue": 7}, 400),
                                  ("/api/messages", {"body": 1, "priority": "urgent"}, 400)):
        answer = client.post(path, json=payload)
        assert answer.status_code == status and answer.get_json()["error"], (path, payload)
    assert {key: rdb.type(key) for key in rdb.keys("*")} == before  # refused: nothing stored, no key made
    names = [q["name"] for q in client.get("/api/queues").get_json()["queues"]]
    assert names == [*QUEUES, "fib"]
    assert client.post("/api/queues/baixa/pause").get_json() == {"queue": "baixa", "paused": True}
    rdb.lpush("fila", "from redis-cli")  # the handout's LPUSH still feeds the default queue
    worker = start_worker(named, "--queues", "alta,fila,baixa")
    try:
        wait_for(lambda: done(rdb, "alta") == 3 and done(rdb, "fila") == 2, timeout=15, message="alta and fila")
        assert rdb.llen("baixa") == 1 and done(rdb, "baixa") == 0  # paused: taken by nobody
        client.post("/api/queues/baixa/resume")
        wait_for(lambda: done(rdb, "baixa") == 1, timeout=15, message="baixa after resume")
    finally:
        worker.stop()
    found = client.get(f"/api/messages/{by_path.get_json()['ids'][0]}").get_json()
    assert found["status"] == "done" and found["queue"] == "alta"
    metrics = client.get("/metrics").get_data(as_text=True)
    for queue, count in (("fila", 2), ("alta", 3), ("baixa", 1)):
        assert f'fila_messages_processed_total{{queue="{queue}"}} {float(count)}' in metrics
    assert client.get("/api/history?queue=nope").status_code == 404
    assert client.get("/api/dead?queue=alta").get_json()["queue"] == "alta"


def test_a_queue_runs_with_its_own_options(named, rdb):
    """QUEUE_ALTA_MAX_ATTEMPTS=2: a failing message of alta dies after two runs, one of fila after MAX_ATTEMPTS."""
    failing = dataclasses.replace(named, handler="tests.support.handlers:poison", retry_base_ms=0)
    client = create_app({"SETTINGS": failing, "TESTING": True}).test_client()
    in_alta = client.post("/api/queues/alta/messages", json={"body": {"poison": "raise"}}).get_json()["ids"][0]
    in_fila = client.post("/api/messages", json={"body": {"poison": "raise"}}).get_json()["ids"][0]
    worker = start_worker(failing, "--queues", "alta,fila")
    try:
        wait_for(lambda: rdb.zcard(keys.dead_index("alta")) == 1 and rdb.zcard(keys.dead_index("fila")) == 1,
                 timeout=20, message="both dead")
    finally:
        worker.stop()
    assert client.get(f"/api/messages/{in_alta}").get_json()["attempts"] == 2
    assert client.get(f"/api/messages/{in_fila}").get_json()["attempts"] == failing.max_attempts


def test_strict_priority_runs_every_waiting_message_of_the_first_queue_before_the_next(named, rdb):
    client = create_app({"SETTINGS": named, "TESTING": True}).test_client()
    low = client.post("/api/queues/baixa/messages", json=[{"body": i} for i in range(300)]).get_json()["ids"]
    high = client.post("/api/queues/alta/messages", json=[{"body": i} for i in range(300)]).get_json()["ids"]
    worker = start_worker(named, "--queues", "alta,baixa")
    try:
        wait_for(lambda: done(rdb, "baixa") == 300, timeout=20, message="everything")
    finally:
        worker.stop()
    assert max(finished(client, high)) <= min(finished(client, low))


def test_weights_hold_within_ten_percent_and_no_queue_starves(named, rdb):
    """Two workers at alta:3,fila:1 over a saturated backlog: three of alta's for one of fila's, within 10%."""
    slow = dataclasses.replace(named, worker_batch_max=20)
    queues = {name: MessageQueue(connect(slow), slow.for_queue(name)) for name in ("alta", "fila")}
    for queue in queues.values():
        queue.enqueue([json.dumps({"work_ms": 1})] * 4000)
    workers = [start_worker(slow, "--queues", "alta:3,fila:1") for _ in range(2)]
    try:
        wait_for(lambda: done(rdb, "alta") + done(rdb, "fila") >= 2000, timeout=60, interval=0.01,
                 message="2,000 done")
        alta, fila = done(rdb, "alta"), done(rdb, "fila")
    finally:
        for worker in workers:
            worker.stop()
    print(f"\nalta:3,fila:1 -> alta {alta}, fila {fila}: {alta / fila:.2f} to 1")
    assert fila > 0 and 2.7 <= alta / fila <= 3.3


def test_an_idle_worker_of_several_queues_wakes_on_an_enqueue_not_on_its_timeout(named, rdb):
    patient = dataclasses.replace(named, worker_block_timeout=30.0)
    worker = start_worker(patient, "--queues", "alta,baixa")
    try:
        blocked(rdb, "blmpop")
        client = create_app({"SETTINGS": patient, "TESTING": True}).test_client()
        sent = time.monotonic()
        client.post("/api/queues/baixa/messages", json={"body": "wake up"})
        wait_for(lambda: done(rdb, "baixa") == 1, timeout=10, interval=0.01, message="the message")
        waited = time.monotonic() - sent
    finally:
        worker.stop()
    assert waited < 2.0, waited  # the bell woke it: its BLMPOP would have waited 30 s


def test_a_dead_worker_of_several_queues_has_every_queue_given_back(named, rdb):
    queue = MessageQueue(connect(named), named.for_queue("baixa"))
    queue.enqueue(['"a"', '"b"'])
    assert queue.take("gone-worker", 2) and rdb.llen(keys.processing("gone-worker", "baixa")) == 2
    rdb.sadd(keys.WORKERS, "gone-worker")
    rdb.hset(keys.worker("gone-worker"), mapping={"queue": "alta,baixa", "host": "h"})
    client = create_app({"SETTINGS": named, "TESTING": True}).test_client()
    (lost,) = client.get("/api/workers").get_json()["workers"]
    assert lost["state"] == "lost" and lost["in_flight"] == 2 and lost["queues"] == ["alta", "baixa"]
    quick = dataclasses.replace(named, heartbeat_ttl=0.5)
    worker = start_worker(quick, "--queues", "fila")
    try:
        wait_for(lambda: rdb.llen("baixa") == 2 and not rdb.exists(keys.worker("gone-worker")),
                 timeout=15, message="the dead worker's messages back on baixa")
    finally:
        worker.stop()


def test_high_priority_runs_before_normal_and_low_after(named, rdb):
    """Inside one queue: high first, low last, whatever order they came in."""
    client = create_app({"SETTINGS": named, "TESTING": True}).test_client()
    client.post("/api/queues/fila/pause")
    low = client.post("/api/messages?priority=low", json=[{"body": i} for i in range(20)]).get_json()["ids"]
    normal = client.post("/api/messages", json=[{"body": i} for i in range(20)]).get_json()["ids"]
    high = client.post("/api/messages", json=[{"body": i, "priority": "high"} for i in range(20)]).get_json()["ids"]
    figures = client.get("/api/queues").get_json()["queues"][0]
    assert (figures["length"], figures["high"], figures["low"]) == (60, 20, 20)
    delayed = MessageQueue(connect(named), named)
    due = time.time() + 0.05
    delayed.enqueue(['"later"'], [Options(due_ms=int(due * 1000), priority="high")])
    assert rdb.llen(keys.high("fila")) == 20
    assert delayed.promote(now=due)[0] == 1 and rdb.llen(keys.high("fila")) == 21  # promoted onto its own list
    client.post("/api/queues/fila/resume")
    worker = start_worker(named)
    try:
        wait_for(lambda: done(rdb, "fila") == 61, timeout=20, message="all of them")
    finally:
        worker.stop()
    assert max(finished(client, high)) <= min(finished(client, normal))
    assert max(finished(client, normal)) <= min(finished(client, low))


def test_a_high_message_on_an_idle_queue_is_taken_at_once(named, rdb):
    """Nothing waits: a high message goes straight on the queue list, where the blocked worker's BLMOVE sees it."""
    patient = dataclasses.replace(named, worker_block_timeout=30.0)
    worker = start_worker(patient)
    try:
        client = create_app({"SETTINGS": patient, "TESTING": True}).test_client()
        blocked(rdb, "blmove")
        sent = time.monotonic()
        client.post("/api/messages", json={"body": "now", "priority": "high"})
        wait_for(lambda: done(rdb, "fila") == 1, timeout=10, interval=0.01, message="the message")
        assert time.monotonic() - sent < 2.0
    finally:
        worker.stop()
