"""The console's API on a real redis-server: dead letters (page, look up, delete, requeue, purge in steps),
history per minute, workers alive and lost, and the oldest message's age."""

from __future__ import annotations

import dataclasses
import json
import time

from shared.core import keys
from shared.messages.queue import MessageQueue
from worker.state import WorkerState


def kill_all(settings, rdb, count: int) -> list[str]:
    """Enqueue `count` messages and let a worker that always dies with them make them dead letters."""
    queue = MessageQueue(rdb, dataclasses.replace(settings, max_attempts=1))
    ids = queue.enqueue([json.dumps({"n": i}) for i in range(count)])
    while rdb.llen("fila"):
        queue.take("dying", 200)
        queue.reclaim("dying", "worker dying died while processing")
    return ids


def test_dead_letters_page_lookup_delete_and_requeue_some(client, settings, rdb):
    ids = kill_all(settings, rdb, 250)
    first = client.get("/api/dead?limit=100").get_json()
    assert len(first["dead"]) == 100 and first["next"] is not None
    letter = first["dead"][0]
    assert letter["error"] == "worker dying died while processing" and letter["attempts"] == 1
    assert letter["preview"].startswith('{"n":') and "body" not in letter
    pages, after = [first["dead"]], first["next"]
    while after is not None:
        page = client.get(f"/api/dead?limit=100&after={after}").get_json()
        pages.append(page["dead"])
        after = page["next"]
    seen = [d["id"] for page in pages for d in page]
    # 200 of them died in the same millisecond (one reclaim): pages cut among them lose and repeat nothing.
    assert len(seen) == len(set(seen)) == 250 and set(seen) == set(ids)
    whole = client.get(f"/api/dead/{ids[7]}").get_json()
    assert whole["body"] == {"n": 7}
    assert client.get(f"/api/messages/{ids[7]}").get_json()["status"] == "dead"
    assert client.delete(f"/api/dead/{ids[7]}").get_json() == {"deleted": 1}
    assert client.delete(f"/api/dead/{ids[7]}").status_code == 404
    assert client.get(f"/api/dead/{ids[7]}").status_code == 404
    assert client.post("/api/dead/requeue", json={"ids": ids[:5]}).get_json() == {"requeued": 5}
    assert client.post("/api/dead/requeue", json={"ids": ids[:5]}).get_json() == {"requeued": 0}  # not twice
    assert rdb.llen("fila") == 5 and rdb.zcard(keys.dead_index("fila")) == 244
    assert client.get(f"/api/messages/{ids[0]}").get_json()["status"] == "queued"


def test_requeue_all_and_purge_go_in_steps_and_a_repeated_step_moves_nothing_twice(client, settings, rdb,
                                                                                    monkeypatch):
    from web import dead_letters

    monkeypatch.setattr(dead_letters, "STEP_MAX", 40)
    kill_all(settings, rdb, 100)
    time.sleep(0.005)
    until = time.time()
    time.sleep(0.005)
    kill_all(settings, rdb, 5)  # dead after `until`: not part of this "all"
    first = client.post("/api/dead/requeue", json={"all": True, "until": until}).get_json()
    assert first["requeued"] == 40 and first["remaining"] == 60 and first["until"] == int(until * 1000) / 1000
    moved, body = first["requeued"], first
    while body["remaining"]:
        body = client.post("/api/dead/requeue", json={"all": True, "until": first["until"]}).get_json()
        moved += body["requeued"]
    again = client.post("/api/dead/requeue", json={"all": True, "until": first["until"]}).get_json()
    assert moved == 100 and again == {"requeued": 0, "remaining": 0, "until": first["until"]}
    assert rdb.llen("fila") == 100 and rdb.zcard(keys.dead_index("fila")) == 5
    assert client.post("/api/dead/purge", json={}).status_code == 400  # needs the confirmation
    purged = client.post("/api/dead/purge", json={"confirm": True}).get_json()
    assert purged["purged"] == 5 and purged["remaining"] == 0
    assert rdb.zcard(keys.dead_index("fila")) == 0 and rdb.hlen(keys.dead_letters("fila")) == 0


def test_history_counts_done_failed_and_dead_per_minute(client, settings, rdb):
    from benchmarks.workers import settled_batch

    queue = MessageQueue(rdb, settings)
    queue.enqueue(['"a"', '"b"', '"c"'])
    entries = queue.take("w1", 10)
    queue.settle("w1", entries, settled_batch(entries), reliable=True)
    kill_all(settings, rdb, 2)
    history = client.get("/api/history?minutes=5").get_json()["history"]
    assert len(history) == 5 and history[-1]["minute"] == int(time.time()) // 60 * 60
    assert sum(m["done"] for m in history) == 3 and sum(m["dead"] for m in history) == 2
    assert 0 < rdb.ttl(keys.history("fila", int(time.time()) // 3600)) <= 25 * 3600
    assert len(rdb.keys("fila:history:*")) <= 2 and len(rdb.keys("fila:rate:*")) <= 2  # one key an hour, a minute
    assert client.get("/api/history?minutes=1441").status_code == 400
    assert len(client.get("/api/history?minutes=1440").get_json()["history"]) == 1440


def test_a_worker_whose_heartbeat_stopped_is_lost_until_reaped(client, settings, rdb):
    from shared.messages.timings import Timings
    from worker.heartbeat import Heartbeat
    from worker.reaper import Reaper

    queue = MessageQueue(rdb, settings)
    queue.enqueue(['"x"'] * 3)
    state = WorkerState("w-lost", settings)
    heartbeat = Heartbeat(rdb, state, {settings.queue_name: Timings()}, [queue])
    heartbeat.beat()
    queue.take("w-lost", 3)
    (alive,) = client.get("/api/workers").get_json()["workers"]
    assert alive["state"] == "alive" and alive["in_flight"] == 3 and alive["pid"] > 0
    rdb.delete(keys.heartbeat("w-lost"))  # as when its TTL runs out
    (lost,) = client.get("/api/workers").get_json()["workers"]
    assert lost["state"] == "lost" and lost["in_flight"] == 3 and lost["host"] == alive["host"]
    other = WorkerState("reaper", settings)
    reaper = Reaper(rdb, other, [queue])
    reaper.connected_since = time.monotonic() - settings.heartbeat_ttl - 1
    assert reaper.reap() == 1
    assert client.get("/api/workers").get_json()["workers"] == []
    assert client.get("/api/queues").get_json()["queues"][0]["length"] == 3
