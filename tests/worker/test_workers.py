"""Real worker processes on a real redis-server: no message lost, under kills, poison, SIGTERM and restarts."""

from __future__ import annotations

import dataclasses
import json
import random
import re
import signal
import time

import pytest
import requests

from shared.core import keys
from shared.core.connection import connect
from shared.core.ids import id_minute, new_id
from shared.messages.envelope import encode
from shared.messages.queue import MessageQueue
from tests.support.polling import wait_for
from tests.support.processes import start_granian, start_worker
from tests.support.redis_server import RedisServer, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def fast_settings(settings):
    """Settings that let dead workers be noticed in about a second."""
    return dataclasses.replace(settings, heartbeat_ttl=1.0, worker_block_timeout=0.5, log_level="INFO")


def enqueue(settings, bodies) -> list[str]:
    return MessageQueue(connect(settings), settings).enqueue([json.dumps(b) for b in bodies])


def statuses(rdb, ids) -> list[dict]:
    """Return each message's record as the API finds it: done and retried in the results, dead in the dead
    letters; {} while it has none (queued or processing)."""
    with rdb.pipeline(transaction=False) as pipe:
        for message_id in ids:
            pipe.hget(keys.dead_letters("fila"), message_id)
            pipe.hget(keys.results("fila", id_minute(message_id)), message_id)
        replies = pipe.execute()
    return [json.loads(dead or stored) if (dead or stored) else {} for dead, stored in zip(replies[::2], replies[1::2],
                                                                                          strict=True)]


def all_done(rdb, ids) -> bool:
    return all(s.get("status") == "done" for s in statuses(rdb, ids))


def test_three_workers_ten_thousand_messages_over_http(fast_settings, rdb):
    port = free_port()
    web = start_granian(fast_settings, port)
    workers = []
    try:
        workers += [start_worker(fast_settings) for _ in range(3)]
        session = requests.Session()
        url = f"http://127.0.0.1:{port}/api/messages"
        ids: list[str] = []
        for batch in range(90):
            reply = session.post(url, json=[{"body": {"text": f"lote {batch} item {i}"}} for i in range(100)])
            assert reply.status_code == 202
            ids += reply.json()["ids"]
        for i in range(1000):
            reply = session.post(url, json={"body": f"mensagem {i}"})
            assert reply.status_code == 202
            ids += reply.json()["ids"]
        assert len(set(ids)) == 10_000
        wait_for(lambda: int(rdb.hget(keys.stats("fila"), "done") or 0) >= 10_000, timeout=60, message="10k done")
        results = statuses(rdb, ids)
        lost = [i for i, s in zip(ids, results, strict=True) if s.get("status") != "done"]
        assert lost == []
        # A second result for any message would have counted twice: exactly 10,000 means none.
        assert int(rdb.hget(keys.stats("fila"), "done")) == 10_000
        per_worker = [int(rdb.hget(keys.worker(n), "processed") or 0) for n in rdb.smembers(keys.WORKERS)]
        assert sum(per_worker) == 10_000 and len(per_worker) == 3
        queues = session.get(f"http://127.0.0.1:{port}/api/queues").json()["queues"][0]
        assert queues["length"] == 0 and queues["in_flight"] == 0 and queues["done"] == 10_000
    finally:
        codes = [proc.stop() for proc in workers]
        web.stop()
    assert codes == [0, 0, 0]


def _kill_loop(settings, rdb, kills: int, delivery: str, work_ms: int, initial: int) -> tuple[list[str], int]:
    """Keep 3 workers busy, SIGKILL one at random `kills` times (restarting it); return ids and kills."""
    rng = random.Random(1234)
    ids = enqueue(settings, [{"work_ms": work_ms, "i": i} for i in range(initial)])
    workers = [start_worker(settings, "--delivery", delivery) for _ in range(3)]
    try:
        for _ in range(kills):
            if rdb.llen("fila") < 50:
                ids += enqueue(settings, [{"work_ms": work_ms} for _ in range(300)])
            time.sleep(rng.uniform(0.02, 0.12))
            victim = workers.pop(rng.randrange(len(workers)))
            victim.kill()
            workers.append(start_worker(settings, "--delivery", delivery))
        if delivery == "reliable":
            wait_for(lambda: all_done(rdb, ids), timeout=120, interval=0.2, message="every message done")
        else:
            wait_for(lambda: rdb.llen("fila") == 0, timeout=120, interval=0.2, message="queue drained")
            time.sleep(3 * work_ms / 1000)
    finally:
        for proc in workers:
            proc.stop()
    return ids, kills


def test_reliable_survives_a_hundred_kill_minus_nine(fast_settings, rdb):
    ids, kills = _kill_loop(fast_settings, rdb, kills=100, delivery="reliable", work_ms=20, initial=1500)
    results = statuses(rdb, ids)
    lost = [i for i, s in zip(ids, results, strict=True) if s.get("status") != "done"]
    # A run is repeated only for a message that was in a killed worker's hands (redelivered, attempts > 1:
    # `attempts` counts the runs started, the one that succeeded included).
    assert all(s["attempts"] >= 1 for s in results)
    duplicate_runs = sum(s["attempts"] - 1 for s in results)
    done = int(rdb.hget(keys.stats("fila"), "done"))
    print(f"reliable: {len(ids)} messages, {kills} kills, lost={len(lost)}, duplicate runs={duplicate_runs}, "
          f"results stored={done}")
    assert lost == []
    # The kills hit work in progress (else this proves nothing): some messages were reclaimed and ran again.
    assert int(rdb.hget(keys.stats("fila"), "reclaimed") or 0) > 0 and duplicate_runs > 0
    assert duplicate_runs <= kills
    assert done == len(ids)
    assert rdb.zcard(keys.dead_index("fila")) == 0


def test_a_worker_whose_processing_list_disagrees_gives_the_orphans_back(fast_settings, rdb):
    """A failover can lose settles the old primary acknowledged: the new primary's processing list
    still holds entries the worker finished. Every later settle then finds a stranger at the head;
    the worker must give the list back instead of holding it (and all it takes after) forever."""
    settings = dataclasses.replace(fast_settings, worker_name="resync-1")
    worker = start_worker(settings)
    try:
        wait_for(lambda: rdb.exists(keys.heartbeat("resync-1")), timeout=10, message="the worker registered")
        # Past its start (where it reclaims its own list): idle, waiting in BLMOVE.
        wait_for(lambda: any(c.get("cmd") == "blmove" for c in rdb.client_list()), timeout=10,
                 message="the worker waiting for messages")
        # What a lost settle leaves behind: an entry at the head of the worker's list, unknown to it.
        stale = new_id()
        rdb.lpush(keys.processing("resync-1"), encode(stale, json.dumps({"text": "settled on the old primary"}),
                                                      time.time()))
        (fresh,) = enqueue(settings, [{"text": "taken after the failover"}])
        wait_for(lambda: all_done(rdb, [stale, fresh]), timeout=20, interval=0.1, message="both messages done")
        assert rdb.llen(keys.processing("resync-1")) == 0
        assert worker.wait_for_line(r"gave back \d+ message")
    finally:
        worker.stop()


def test_brpop_loses_the_message_in_hand(fast_settings, rdb):
    ids, kills = _kill_loop(fast_settings, rdb, kills=20, delivery="brpop", work_ms=20, initial=600)
    results = statuses(rdb, ids)
    lost = [i for i, s in zip(ids, results, strict=True) if s.get("status") != "done"]
    print(f"brpop: {len(ids)} messages, {kills} kills, lost={len(lost)} (expected: at-most-once)")
    assert 1 <= len(lost) <= kills


def test_poison_messages_end_dead_without_looping(fast_settings, rdb):
    settings = dataclasses.replace(fast_settings, max_attempts=3, handler="tests.support.handlers:poison")
    (raising, exiting) = enqueue(settings, [{"poison": "raise"}, {"poison": "exit"}])
    normal = enqueue(settings, [{"text": f"ok {i}"} for i in range(50)])
    workers = [start_worker(settings) for _ in range(2)]
    restarts = 0
    try:
        def settled():
            nonlocal restarts
            for index, proc in enumerate(workers):
                if not proc.alive():  # what compose's restart policy does
                    workers[index] = start_worker(settings)
                    restarts += 1
            got = statuses(rdb, [raising, exiting])
            return all(s.get("status") == "dead" for s in got) and all_done(rdb, normal)

        wait_for(settled, timeout=60, interval=0.1, message="poison dead, the rest done")
        raised, exited = statuses(rdb, [raising, exiting])
        assert raised["error"] == "RuntimeError: poison message" and raised["attempts"] == 3
        assert exited["attempts"] == 3 and "died" in exited["error"]
        assert restarts == 3
        assert rdb.zcard(keys.dead_index("fila")) == 2 and rdb.llen("fila") == 0
        # Dead means dead: nothing picks them up again.
        time.sleep(1.5)
        assert restarts == 3 and all(p.alive() for p in workers)
    finally:
        for proc in workers:
            proc.stop()


def test_sigterm_mid_work_loses_nothing(fast_settings, rdb):
    ids = enqueue(fast_settings, [{"work_ms": 20, "i": i} for i in range(300)])
    workers = []
    try:
        workers += [start_worker(fast_settings) for _ in range(2)]
        wait_for(lambda: int(rdb.hget(keys.stats("fila"), "done") or 0) >= 20, message="some done")
        for proc in workers:
            proc.signal(signal.SIGTERM)
        for proc in workers:
            start = time.monotonic()
            assert proc.stop(timeout=10) == 0
            assert time.monotonic() - start < 5
            assert "stopped: processed=" in proc.output()
    finally:
        for proc in workers:
            proc.stop()
    assert rdb.keys(keys.processing("*")) == []
    assert rdb.smembers(keys.WORKERS) == set()
    finisher = start_worker(fast_settings)
    try:
        wait_for(lambda: all_done(rdb, ids), timeout=30, message="all done after restart")
    finally:
        code = finisher.stop()
    assert code == 0
    assert int(rdb.hget(keys.stats("fila"), "done")) == len(ids)


def test_workers_ride_out_a_redis_restart(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    from shared.core.settings import Settings

    settings = Settings(redis_url=server.url, heartbeat_ttl=1.0, worker_block_timeout=0.5)
    rdb = server.client()
    workers: list = []
    try:
        before = enqueue(settings, [{"work_ms": 5, "i": i} for i in range(400)])
        workers += [start_worker(settings) for _ in range(2)]
        wait_for(lambda: int(rdb.hget(keys.stats("fila"), "done") or 0) >= 50, message="work under way")
        server.stop()
        time.sleep(2)
        server.start()
        restarted = time.monotonic()
        after = enqueue(settings, [{"text": "depois"}])
        wait_for(lambda: all_done(rdb, after), timeout=10, message="resumed within 10 s")
        resumed_in = time.monotonic() - restarted
        wait_for(lambda: all_done(rdb, before), timeout=30, message="every earlier message done")
        assert all(proc.alive() for proc in workers)
        # Each worker met the outage (and said so) and rode it out without exiting.
        assert all(re.search(r"redis unavailable \(|storing \d+ result\(s\) failed", proc.output()) for proc in workers)
        print(f"resumed {resumed_in:.2f}s after redis-server came back")
    finally:
        codes = [proc.stop() for proc in workers]
        server.stop()
    assert codes == [0, 0]


def test_the_log_line_shows_the_body_escaped_and_the_attempts_the_record_holds(fast_settings, rdb):
    """One line per message: a short piece of its body (a newline cannot forge a line) and the API's attempts."""
    first_try = enqueue(fast_settings, [{"text": "olá\nINFO worker: forged"}, "x" * 500])
    again = new_id()  # a message a dead worker held once: its second run
    rdb.hset(keys.pending("fila"), again, "")
    rdb.lpush("fila", encode(again, json.dumps("segunda vez"), time.time(), attempts=1))
    rdb.lpush("fila", "crua\r\nINFO worker: forjada")  # a raw LPUSH: its newline is a real one
    worker = start_worker(fast_settings)
    try:
        wait_for(lambda: all_done(rdb, [*first_try, again]) and rdb.llen("fila") == 0, timeout=30,
                 message="four done")
    finally:
        worker.stop()
    output = worker.output()
    for message_id, record in zip([*first_try, again], statuses(rdb, [*first_try, again]), strict=True):
        (line,) = [line for line in output.splitlines() if f" {message_id} done " in line]
        assert f" done attempts={record['attempts']} " in line, line
    assert [record["attempts"] for record in statuses(rdb, [*first_try, again])] == [1, 1, 2]
    assert '\\nINFO worker: forged"}' in output  # JSON's own escape, kept as it is stored
    assert 'body="crua\\x0d\\x0aINFO worker: forjada"' in output  # the log's
    assert not any(line.startswith("INFO worker: for") for line in output.splitlines())
    assert f'body="{"x" * 59}…' in output and "x" * 61 not in output
    assert 'body="segunda vez"' in output


@pytest.mark.parametrize("delivery", ["reliable", "brpop"])
def test_a_message_pushed_right_after_a_pause_waits_on_the_list(settings, rdb, delivery):
    """The lab's lesson: pause, push, and the message waits (LRANGE shows it) until the queue is resumed.

    The worker is idle, blocked in BLMOVE (or BRPOP) for WORKER_BLOCK_TIMEOUT (shipped default)
    when the pause comes: that wait must give back what it gets.
    """
    worker = start_worker(settings, "--delivery", delivery)
    queue = MessageQueue(connect(settings), settings)
    try:
        wait_for(lambda: rdb.scard(keys.WORKERS) == 1, timeout=10, message="the worker registered")
        for round_ in range(3):  # each round meets the blocking wait at another moment
            queue.pause()
            (message_id,) = enqueue(settings, [f"espera {round_}"])
            deadline = time.monotonic() + 2.5 * settings.worker_block_timeout
            while time.monotonic() < deadline:  # the blocked wait may take it for an instant, and gives it back
                assert statuses(rdb, [message_id]) == [{}], "a paused queue's message was processed"
                time.sleep(0.05)
            assert rdb.llen("fila") == 1 and rdb.hget(keys.pending("fila"), message_id) == ""
            queue.resume()
            wait_for(lambda message_id=message_id: all_done(rdb, [message_id]), timeout=10, message="done after resume")
    finally:
        assert worker.stop() == 0
