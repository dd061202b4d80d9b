"""Periodic messages on real workers and a real redis-server: one per tick, however many workers, under kill -9."""

from __future__ import annotations

import dataclasses
import itertools
import json
import subprocess
import time

import pytest

from shared.core import keys
from shared.core.connection import connect
from shared.core.ids import id_time
from shared.core.settings import Settings
from shared.messages.periodic import SCHEDULES_MAX, Schedule, Schedules
from tests.support.polling import wait_for
from tests.support.processes import BIN, child_env, start_worker
from tests.worker.test_workers import statuses
from web import create_app

pytestmark = pytest.mark.slow


def sent_ids(rdb) -> list[str]:
    """Return the ids of the periodic messages done, oldest first (they are the only messages of these tests)."""
    ids = sorted(rdb.hkeys(keys.pending("fila")))
    for key in rdb.scan_iter(f"{keys.results_prefix('fila')}*"):
        ids += rdb.hkeys(key)
    return sorted(set(ids))


def test_one_message_per_tick_with_four_workers_and_a_kill_minus_nine(settings, rdb):
    fast = dataclasses.replace(settings, heartbeat_ttl=1.0, worker_block_timeout=0.5)
    schedules = Schedules(connect(fast), fast)
    workers = [start_worker(fast) for _ in range(4)]
    try:
        began = time.time()
        schedules.add(Schedule("tique", '{"text": "tique"}', every_ms=1000, created_ms=int(began * 1000)))
        wait_for(lambda: int(rdb.hget(keys.schedules_fired("fila"), "tique") or 0) >= 3, timeout=10,
                 message="three ticks")
        workers.pop(0).kill()  # one of the four dies, perhaps mid-tick
        workers.append(start_worker(fast))
        wait_for(lambda: int(rdb.hget(keys.schedules_fired("fila"), "tique") or 0) >= 6, timeout=10,
                 message="six ticks")
        assert schedules.remove("tique")
        ended = time.time()
        wait_for(lambda: rdb.llen("fila") == 0 and all(s.get("status") == "done" for s in statuses(rdb, sent_ids(rdb))),
                 timeout=10, message="the periodic messages done")
    finally:
        for proc in workers:
            proc.stop()
    ids = sent_ids(rdb)
    times = [id_time(i) for i in ids]
    ticks = int((ended - began) // 1)  # the ticks that fell between adding and removing it
    print(f"periodic: {len(ids)} messages over {ended - began:.1f}s ({ticks} ticks), 4 workers, one killed")
    assert ticks - 1 <= len(ids) <= ticks + 1
    assert int(rdb.hget(keys.stats("fila"), "periodic")) == len(ids)
    assert all(later - earlier > 0.5 for earlier, later in itertools.pairwise(times))  # one a tick


def test_after_downtime_one_catch_up_message_goes_not_a_burst(settings, rdb):
    schedules = [Schedules(connect(settings), settings) for _ in range(3)]  # three workers' promoters
    now_ms = int(time.time() * 1000)
    schedules[0].add(Schedule("atrasado", '"x"', every_ms=1000, created_ms=now_ms - 10_000))
    rdb.zadd(keys.schedules_next("fila"), {"atrasado": now_ms - 5000})  # five ticks missed while nothing ran
    assert sum(s.fire_due() for s in schedules) == 1
    assert rdb.llen("fila") == 1
    next_ms = rdb.zscore(keys.schedules_next("fila"), "atrasado")
    assert now_ms < next_ms <= now_ms + 1000 + 50  # the next tick after now, on the schedule's grid
    assert (next_ms - (now_ms - 10_000)) % 1000 == 0


def test_cron_ticks_follow_the_line_in_utc(settings, rdb):
    schedule = Schedule("cinco", '"x"', cron="*/5 * * * *", created_ms=0)
    at = schedule.following(1_796_600_000_000)  # 2026-12-06 22:53:20 UTC
    assert at == 1_796_600_100_000  # 22:55:00


def test_the_api_and_the_cli_add_list_and_remove(settings, rdb):
    web = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    reply = web.post("/api/schedules", json={"name": "relatorio", "cron": "0 9 * * 1", "body": {"text": "oi"}})
    assert reply.status_code == 201 and reply.get_json()["created"] is True
    assert web.post("/api/schedules", json={"name": "relatorio", "every": "1h", "body": 1}).status_code == 200
    env = child_env(settings, {"LANG": "C.UTF-8", "FILA_LANGUAGE": "en"})
    fila = [str(BIN / "fila"), "schedule"]
    added = subprocess.run([*fila, "add", "limpeza", "--every", "30s", "--body", '{"text": "limpar"}'], env=env,
                           capture_output=True, text=True, check=True)
    assert added.stdout.startswith("added limpeza: first message at ")
    listed = subprocess.run([*fila, "list"], env=env, capture_output=True, text=True, check=True).stdout
    assert "limpeza  every 30000 ms" in listed and "relatorio  every 3600000 ms" in listed
    shown = web.get("/api/schedules").get_json()["schedules"]
    assert [s["name"] for s in shown] == ["limpeza", "relatorio"]  # the soonest first
    assert web.get("/api/queues").get_json()["queues"][0]["schedules"] == 2
    assert subprocess.run([*fila, "remove", "limpeza"], env=env, capture_output=True, text=True).returncode == 0
    assert subprocess.run([*fila, "remove", "limpeza"], env=env, capture_output=True, text=True).returncode == 1
    bad = subprocess.run([*fila, "add", "x", "--cron", "a b c", "--body", "1"], env=env, capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "cron" in bad.stderr
    assert web.delete("/api/schedules/relatorio").status_code == 204
    assert web.delete("/api/schedules/relatorio").status_code == 404
    assert rdb.hlen(keys.schedules("fila")) == 0 and rdb.zcard(keys.schedules_next("fila")) == 0


def test_the_cli_schedules_on_a_named_queue(settings, rdb):
    named = Settings.from_env({**settings.env(), "QUEUES": "fila,alta"})
    env = child_env(named, {"LANG": "C.UTF-8", "FILA_LANGUAGE": "en"})
    fila = [str(BIN / "fila"), "schedule", "--queue"]
    subprocess.run([*fila, "alta", "add", "pulso", "--every", "1m", "--body", "1"], env=env, check=True,
                   capture_output=True)
    assert rdb.hkeys(keys.schedules("alta")) == ["pulso"] and rdb.hlen(keys.schedules("fila")) == 0
    web = create_app({"SETTINGS": named, "TESTING": True}).test_client()
    assert [s["name"] for s in web.get("/api/schedules?queue=alta").get_json()["schedules"]] == ["pulso"]
    unknown = subprocess.run([*fila, "nope", "list"], env=env, capture_output=True, text=True)
    assert unknown.returncode == 2 and "no queue is named 'nope'" in unknown.stderr


@pytest.mark.parametrize("payload", [
    {"name": "a", "body": 1}, {"name": "a", "every": "30s", "cron": "* * * * *", "body": 1},
    {"name": "a", "every": "0s", "body": 1}, {"name": "a", "every": "999ms", "body": 1},
    {"name": "a", "every": "367d", "body": 1}, {"name": "a", "every": "30", "body": 1},
    {"name": "a", "cron": "61 * * * *", "body": 1}, {"name": "a", "cron": "* * * * * *", "body": 1},
    {"name": "", "every": "1s", "body": 1}, {"name": "a/b", "every": "1s", "body": 1},
    {"name": "a" * 65, "every": "1s", "body": 1}, {"name": "a", "every": "1s"}, {"name": 5, "every": "1s", "body": 1},
    {"name": "a", "every": 30, "body": 1},
])
def test_bad_schedules_are_400_and_store_nothing(client, rdb, payload):
    reply = client.post("/api/schedules", json=payload)
    assert reply.status_code == 400 and reply.get_json()["error"] == "bad_schedule", reply.get_json()
    assert rdb.dbsize() == 0


def test_a_queue_holds_at_most_schedules_max(client, settings, rdb):
    schedules = Schedules(connect(settings), settings)
    with rdb.pipeline(transaction=False) as pipe:
        for i in range(SCHEDULES_MAX):
            schedule = Schedule(f"s{i}", "1", every_ms=3_600_000, created_ms=0)
            pipe.hset(keys.schedules("fila"), schedule.name, schedule.dump())
            pipe.zadd(keys.schedules_next("fila"), {schedule.name: 4e12})
        pipe.execute()
    reply = client.post("/api/schedules", json={"name": "mais", "every": "1s", "body": 1})
    assert reply.status_code == 409 and reply.get_json()["error"] == "too_many_schedules"
    assert client.post("/api/schedules", json={"name": "s1", "every": "1s", "body": 1}).status_code == 200  # replace
    assert len(schedules.listing()) == SCHEDULES_MAX
    assert json.loads(rdb.hget(keys.schedules("fila"), "s1"))["every_ms"] == 1000
