"""Time, on real workers and a real redis-server: delayed messages, backoff between retries, expiry, cancel, kills."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import re
import statistics
import time
from datetime import UTC, datetime

import pytest

from shared.core import keys
from shared.core.connection import connect
from shared.messages.queue import MessageQueue
from shared.messages.schedule import Options
from tests.support.handlers import attempt_key
from tests.support.polling import wait_for
from tests.support.processes import start_worker
from tests.support.redis_server import RedisServer
from tests.worker.test_workers import all_done, statuses
from web import create_app

pytestmark = pytest.mark.slow

RECORDING = "tests.support.handlers:recording"


@pytest.fixture
def timed(settings):
    """Settings of a worker that notes each run's start (tests.support.handlers:recording)."""
    return dataclasses.replace(settings, heartbeat_ttl=1.0, worker_block_timeout=0.5, log_level="INFO",
                               handler=RECORDING)


def starts(rdb, key: str) -> list[float]:
    """Return when each run of the message with this `key` started (seconds since the epoch)."""
    return [float(value) for value in rdb.lrange(attempt_key({"key": key}), 0, -1)]


def test_delayed_messages_wait_scheduled_then_run_once_due_and_a_cancelled_one_never_runs(timed, rdb):
    web = create_app({"SETTINGS": timed, "TESTING": True}).test_client()
    worker = start_worker(timed)
    try:
        sent = time.time()
        not_before = datetime.fromtimestamp(sent + 2.0, UTC).isoformat(timespec="milliseconds")
        reply = web.post("/api/messages", json=[{"body": {"key": "delay"}, "delay_ms": 1500},
                                                {"body": {"key": "not_before"}, "not_before": not_before},
                                                {"body": {"key": "cancelled"}, "delay_ms": 60_000},
                                                {"body": {"key": "now"}}])
        assert reply.status_code == 202, reply.get_json()
        delayed, dated, cancelled, at_once = reply.get_json()["ids"]
        shown = {i: web.get(f"/api/messages/{i}").get_json() for i in (delayed, dated, cancelled)}
        assert {s["status"] for s in shown.values()} == {"scheduled"}
        assert shown[delayed]["due_at"] == pytest.approx(sent + 1.5, abs=0.2)
        assert shown[dated]["due_at"] == pytest.approx(sent + 2.0, abs=0.002)
        listed = web.get("/api/scheduled").get_json()["scheduled"]
        assert [row["id"] for row in listed] == [delayed, dated, cancelled]  # the soonest due first
        assert web.delete(f"/api/scheduled/{cancelled}").status_code == 204
        assert web.delete(f"/api/scheduled/{cancelled}").status_code == 404  # not scheduled any more
        assert web.delete(f"/api/scheduled/{at_once}").status_code == 404  # queued or done: not cancelled
        wait_for(lambda: all_done(rdb, [delayed, dated, at_once]), timeout=15, message="the delayed messages done")
        for key, message_id in (("delay", delayed), ("not_before", dated)):
            (started,) = starts(rdb, key)
            due = shown[message_id]["due_at"]
            assert due <= started < due + 1.0, (key, started - due)  # never early, and not much late
        assert starts(rdb, "now")[0] < shown[delayed]["due_at"]  # the undelayed one did not wait
        assert starts(rdb, "cancelled") == [] and web.get(f"/api/messages/{cancelled}").status_code == 404
        figures = web.get("/api/queues").get_json()["queues"][0]
        assert figures["scheduled"] == 0 and figures["next_due_at"] is None
    finally:
        assert worker.stop() == 0


def test_a_failing_message_waits_out_its_backoff_between_attempts(timed, rdb):
    """The gaps between runs follow min(RETRY_MAX_MS, base * 2^(n-1)) times a draw in [0, 1): never early."""
    base_ms, attempts, count = 300, 4, 30
    queue = MessageQueue(connect(timed), timed)
    keys_ = [f"failing-{i}" for i in range(count)]
    ids = queue.enqueue([json.dumps({"key": key, "fail": True}) for key in keys_],
                        [Options(max_attempts=attempts, retry_base_ms=base_ms)] * count)
    workers = [start_worker(timed) for _ in range(2)]
    web = create_app({"SETTINGS": timed, "TESTING": True}).test_client()
    try:
        def waiting() -> dict | None:
            shown = web.get(f"/api/messages/{ids[0]}").get_json()
            return shown if shown["status"] == "scheduled" else None
        between = wait_for(waiting, timeout=10, interval=0.01, message="a retry waiting for its backoff")
        assert between["attempts"] >= 1 and between["error"] == "RuntimeError: downstream is down"
        assert between["next_attempt_at"] == pytest.approx(between["due_at"], abs=0.001)
        wait_for(lambda: all(s.get("status") == "dead" for s in statuses(rdb, ids)), timeout=30, interval=0.1,
                 message="every failing message dead after its attempts")
    finally:
        assert [proc.stop() for proc in workers] == [0, 0]
    assert {s["attempts"] for s in statuses(rdb, ids)} == {attempts}
    # The worker's log line says the wait it drew for each retry: "<id> failed attempts=N ... retry in W ms".
    drawn: dict[tuple[str, int], int] = {}
    for line in (line for proc in workers for line in proc.lines):
        found = re.search(r" (\w{26}) failed attempts=(\d+) .* -> retry in (\d+) ms", line)
        if found:
            drawn[(found[1], int(found[2]))] = int(found[3])
    shares = []
    for message_id, key in zip(ids, keys_, strict=True):
        runs = starts(rdb, key)
        assert len(runs) == attempts
        for failed, (before, after) in enumerate(itertools.pairwise(runs), start=1):
            ceiling = min(timed.retry_max_ms, base_ms * 2 ** (failed - 1))
            wait = drawn[(message_id, failed)]
            assert 0 <= wait < ceiling
            gap_ms = (after - before) * 1000
            assert wait - 5 <= gap_ms <= wait + 500, (key, failed, wait, gap_ms)  # not before it is due
            shares.append(wait / ceiling)
    # Full jitter: the draws spread over [0, 1), their mean near 1/2 (90 draws: 5 standard deviations).
    assert 0.33 < statistics.fmean(shares) < 0.67 and min(shares) < 0.2 and max(shares) > 0.8


def test_a_message_past_its_ttl_is_dead_unrun_and_requeueing_it_runs_it(timed, rdb):
    queue = MessageQueue(connect(timed), timed)
    now_ms = int(time.time() * 1000)
    # Due a second ago with 100 ms to start: already expired; the other has a minute.
    late, fresh = queue.enqueue([json.dumps({"key": "late"}), json.dumps({"key": "fresh"})],
                                [Options(due_ms=now_ms - 1000, ttl_ms=100), Options(ttl_ms=60_000)])
    web = create_app({"SETTINGS": timed, "TESTING": True}).test_client()
    worker = start_worker(timed)
    try:
        wait_for(lambda: [s.get("status") for s in statuses(rdb, [late, fresh])] == ["dead", "done"], timeout=10,
                 message="the late one dead, the fresh one done")
        dead = web.get(f"/api/messages/{late}").get_json()
        assert (dead["status"], dead["error"], dead["attempts"]) == ("dead", "expired", 0)
        assert starts(rdb, "late") == [] and len(starts(rdb, "fresh")) == 1  # never ran
        assert web.get("/api/queues").get_json()["queues"][0]["expired"] == 1
        assert re.search(r"^fila_expired_total\{queue=\"fila\"\} 1\.0$", web.get("/metrics").get_data(as_text=True),
                         re.MULTILINE)
        # An operator who requeues it wants it run: its ttl no longer applies.
        assert web.post("/api/dead/requeue", json={"ids": [late]}).get_json()["requeued"] == 1
        wait_for(lambda: all_done(rdb, [late]), timeout=10, message="the requeued one done")
        assert len(starts(rdb, "late")) == 1
    finally:
        assert worker.stop() == 0


def test_kill_minus_nine_while_promoting_loses_nothing_and_repeats_at_most_a_run_per_kill(timed, rdb):
    """1,500 messages coming due over 2 s, four workers promoting them, one killed and restarted meanwhile.

    Messages of 20 ms, as in test_reliable_survives_a_hundred_kill_minus_nine: a worker then holds
    one at a time, so a kill repeats at most one run (a batch of instant messages would repeat its
    batch's runs, never its results). Promotion itself moves each message once (PROMOTE is atomic).
    """
    settings = dataclasses.replace(timed, handler="shared.messages.handlers:analyse", log_level="WARNING")
    queue = MessageQueue(connect(settings), settings)
    first_ms = int(time.time() * 1000) + 1500
    ids: list[str] = []
    ids = queue.enqueue([json.dumps({"work_ms": 20, "i": i}) for i in range(1500)],
                        [Options(due_ms=first_ms + i * 4 // 3) for i in range(1500)])
    assert rdb.zcard(keys.scheduled("fila")) == 1500
    rng = random.Random(23)
    workers = [start_worker(settings) for _ in range(4)]
    kills = 0
    try:
        wait_for(lambda: time.time() * 1000 >= first_ms, timeout=10, interval=0.01, message="the first due")
        while rdb.zcard(keys.scheduled("fila")):  # the kills land while promotion is under way
            victim = workers.pop(rng.randrange(len(workers)))
            victim.kill()
            kills += 1
            workers.append(start_worker(settings))
            time.sleep(rng.uniform(0.05, 0.3))
        wait_for(lambda: all_done(rdb, ids), timeout=120, interval=0.2, message="every message done")
    finally:
        for proc in workers:
            proc.stop()
    results = statuses(rdb, ids)
    duplicate_runs = sum(s["attempts"] - 1 for s in results)
    print(f"promotion under kill -9: {len(ids)} messages, {kills} kills, duplicate runs={duplicate_runs}")
    assert kills >= 3 and duplicate_runs <= kills
    assert int(rdb.hget(keys.stats("fila"), "done")) == 1500  # each stored once
    assert rdb.zcard(keys.scheduled("fila")) == 0 and rdb.hlen(keys.scheduled_envelopes("fila")) == 0


def test_a_redis_restart_keeps_every_scheduled_message(tmp_path):
    from shared.core.settings import Settings

    server = RedisServer(tmp_path / "redis", fsync="everysec").start()
    try:
        settings = Settings(redis_url=server.url)
        queue = MessageQueue(connect(settings), settings)
        due_ms = int(time.time() * 1000) + 3_600_000
        for start in range(0, 100_000, 10_000):
            queue.enqueue([json.dumps({"i": i}) for i in range(start, start + 10_000)],
                          [Options(due_ms=due_ms)] * 10_000)
        server.stop()  # SIGTERM: redis-server writes its append-only file out before it exits
        server.start(timeout=60)
        rdb = server.client()
        assert rdb.zcard(keys.scheduled("fila")) == 100_000
        assert rdb.hlen(keys.scheduled_envelopes("fila")) == 100_000
        moved, next_due = queue.promote()
        assert moved == 0 and next_due == due_ms / 1000  # still waiting for their time
    finally:
        server.stop()


def test_a_hung_handler_loses_its_message_is_shown_stuck_and_its_worker_restarts_itself(timed, rdb):
    """A handler that never returns: its message is taken back at its timeout_ms, the worker is `stuck`, then
    re-executes itself (same PID and name) and goes on; after its last attempt the message is dead: `timeout`."""
    queue = MessageQueue(connect(timed), timed)
    (hung,) = queue.enqueue([json.dumps({"key": "hung", "hang": True})],
                            [Options(timeout_ms=500, max_attempts=2, retry_base_ms=100)])
    web = create_app({"SETTINGS": timed, "TESTING": True}).test_client()
    worker = start_worker(timed)
    try:
        def stuck() -> dict | None:
            found = [w for w in web.get("/api/workers").get_json()["workers"] if w["state"] == "stuck"]
            return found[0] if found else None
        shown = wait_for(stuck, timeout=10, interval=0.05, message="the worker shown stuck")
        assert shown["pid"] == worker.pid and shown["current"] == hung and shown["current_age_s"] >= 0.5
        taken = web.get(f"/api/messages/{hung}").get_json()
        assert taken["error"] == "timeout" and taken["attempts"] == 1 and taken["status"] in {"scheduled", "queued"}
        later = queue.enqueue([json.dumps({"key": f"after-{i}"}) for i in range(5)])
        worker.wait_for_line(r"restarting the worker", timeout=15)
        wait_for(lambda: all_done(rdb, later), timeout=20, message="the restarted worker runs the rest")
        wait_for(lambda: statuses(rdb, [hung])[0].get("status") == "dead", timeout=20, message="dead after 2 runs")
        dead = web.get(f"/api/messages/{hung}").get_json()
        assert (dead["error"], dead["attempts"]) == ("timeout", 2) and len(starts(rdb, "hung")) == 2
        assert worker.alive() and worker.output().count("starting: queue=") >= 2  # the same process, run again
        assert web.get("/api/queues").get_json()["queues"][0]["timeouts"] == 2
        assert re.search(r'^fila_timeouts_total\{queue="fila"\} 2\.0$', web.get("/metrics").get_data(as_text=True),
                         re.MULTILINE)
    finally:
        assert worker.stop() == 0


def test_a_handler_that_returns_late_has_its_result_dropped_and_its_worker_goes_on(timed, rdb):
    settings = dataclasses.replace(timed, handler_timeout_ms=300, max_attempts=1)  # the setting, not an option
    queue = MessageQueue(connect(settings), settings)
    (slow,) = queue.enqueue([json.dumps({"key": "slow", "sleep": 1.0})])
    worker = start_worker(settings)
    try:
        wait_for(lambda: statuses(rdb, [slow])[0].get("status") == "dead", timeout=10, message="slow one dead")
        assert statuses(rdb, [slow])[0]["error"] == "timeout"
        worker.wait_for_line(r"returned after its timeout", timeout=10)
        after = queue.enqueue([json.dumps({"key": "after"})])
        wait_for(lambda: all_done(rdb, after), timeout=10, message="the worker goes on")
        assert statuses(rdb, [slow])[0]["status"] == "dead"  # the late result was not stored over it
        assert "restarting the worker" not in worker.output() and worker.output().count("starting: queue=") == 1
    finally:
        assert worker.stop() == 0


def test_kill_minus_nine_during_retries_loses_nothing(timed, rdb):
    """200 messages that always fail (3 attempts, 100 ms backoff base), two workers, one killed five times."""
    settings = dataclasses.replace(timed, log_level="WARNING")
    queue = MessageQueue(connect(settings), settings)
    keys_ = [f"retry-{i}" for i in range(200)]
    ids = queue.enqueue([json.dumps({"key": key, "fail": True, "sleep": 0.005}) for key in keys_],
                        [Options(max_attempts=3, retry_base_ms=100)] * len(keys_))
    rng = random.Random(7)
    workers = [start_worker(settings) for _ in range(2)]
    kills = 0
    try:
        while kills < 5:
            time.sleep(rng.uniform(0.1, 0.3))
            workers.pop(rng.randrange(2)).kill()
            kills += 1
            workers.append(start_worker(settings))
        wait_for(lambda: all(s.get("status") == "dead" for s in statuses(rdb, ids)), timeout=60, interval=0.2,
                 message="every message dead after its attempts")
    finally:
        for proc in workers:
            proc.stop()
    results = statuses(rdb, ids)
    runs = sum(len(starts(rdb, key)) for key in keys_)
    print(f"retries under kill -9: {len(ids)} messages, {kills} kills, {runs} runs (3 each: {3 * len(ids)})")
    assert {s["attempts"] for s in results} == {3}  # a run cut by a kill counts as one (reclaimed)
    assert runs <= 3 * len(ids) + kills  # at most one repeated run per kill
    assert rdb.zcard(keys.scheduled("fila")) == 0 and rdb.llen("fila") == 0
