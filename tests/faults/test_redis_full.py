"""Redis full (maxmemory reached, noeviction, as compose ships it): an expected state, not a crash.

Real processes: redis-server, the web under granian, a worker. Every write answers 507 with
Retry-After and says Redis is full; reads keep working; /readyz, /metrics and the console say so;
the worker waits it out; nothing already accepted is lost.
"""

from __future__ import annotations

import dataclasses

import pytest
import requests

from shared.core import keys
from tests.support.polling import wait_for
from tests.support.processes import start_granian, start_worker
from tests.support.redis_server import free_port

pytestmark = pytest.mark.slow


def nearly_full(rdb, room: int) -> int:
    """Give Redis a ballast, then a maxmemory `room` bytes above what it uses; return the limit."""
    # Made inside Redis: sent by a client, 8 MB would sit in its query buffer too, freed a moment later.
    rdb.eval("return redis.call('SET', KEYS[1], string.rep('x', ARGV[1]))", 1, "ballast", 8_000_000)
    limit = int(rdb.info("memory")["used_memory"]) + room
    rdb.config_set("maxmemory", limit)
    return limit


def worker_name(rdb) -> str:
    (name,) = rdb.smembers(keys.WORKERS)
    return str(name)


def done_since(rdb, before: int) -> int:
    return int(rdb.hget(keys.stats("fila"), "done") or 0) - before


def test_a_full_redis_refuses_writes_with_507_and_loses_nothing(settings, rdb):
    settings = dataclasses.replace(settings, heartbeat_ttl=2.0)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = start_granian(settings, port, workers=1, threads=2)
    worker = None
    try:
        worker = start_worker(settings)
        session = requests.Session()
        done_before = [session.post(f"{base}/api/messages", json={"body": i}, timeout=5).json()["ids"][0]
                       for i in range(20)]
        wait_for(lambda: all(session.get(f"{base}/api/messages/{i}", timeout=5).json()["status"] == "done"
                             for i in done_before), timeout=20, message="the first messages done")
        session.post(f"{base}/api/queues/fila/pause", timeout=5).raise_for_status()
        accepted = session.post(f"{base}/api/messages", json=[{"body": {"i": i}} for i in range(200)],
                                timeout=5).json()["ids"]
        session.get(f"{base}/set/curso/Redis", timeout=5).raise_for_status()
        nearly_full(rdb, room=1_000_000)
        # Producing fills it: accepted until it is full, then 507 for everything, never a 500.
        codes: list[requests.Response] = []
        while len(codes) < 20_000 and (not codes or codes[-1].status_code == 202):
            codes.append(session.post(f"{base}/api/messages", json={"body": {"n": len(codes), "pad": "x" * 200}},
                                      timeout=5))
        statuses = [reply.status_code for reply in codes]
        first_refusal = statuses.index(507)
        assert set(statuses[:first_refusal]) == {202} and statuses[first_refusal:] == [507], set(statuses)
        # At the threshold Redis' own memory moves by tens of KB (it frees idle clients' buffers every
        # 100 ms), so a write may fit again a moment later; 200 KB under what it uses, it is full
        # beyond doubt: every write is refused.
        rdb.config_set("maxmemory", int(rdb.info("memory")["used_memory"]) - 200_000)
        codes += [session.post(f"{base}/api/messages", json={"body": {"n": n}}, timeout=5) for n in range(200)]
        assert {reply.status_code for reply in codes[first_refusal:]} == {507}
        accepted += [reply.json()["ids"][0] for reply in codes[:first_refusal]]
        print(f"\nRedis filled after {first_refusal} more messages; the next {len(codes) - first_refusal} got 507")
        refused = next(reply for reply in reversed(codes) if reply.status_code == 507)
        assert refused.json()["error"] == "redis_full" and "full" in refused.json()["message"]
        assert int(refused.headers["Retry-After"]) > 0
        text = session.get(f"{base}/set/outra/chave", timeout=5)
        assert text.status_code == 507 and text.text.startswith("Erro: o Redis está cheio")
        assert session.put(f"{base}/api/kv/k", json={"value": "v"}, timeout=5).status_code == 507
        assert session.post(f"{base}/api/bulk", data=b"a,1\n", headers={"Content-Type": "text/csv"},
                            timeout=5).status_code == 507
        # (A worker blocked on the empty list when the queue was paused may have taken one: it is not lost.)
        assert rdb.llen("fila") + rdb.llen(keys.processing(worker_name(rdb))) + done_since(rdb, 20) == len(accepted)
        assert rdb.get("outra") is None and rdb.get("k") is None
        # Reads keep working.
        assert session.get(f"{base}/get/curso", timeout=5).text == "Valor recuperado: Redis"
        assert session.get(f"{base}/api/messages/{accepted[-1]}", timeout=5).json()["status"] == "queued"
        assert session.get(f"{base}/api/messages/{done_before[0]}", timeout=5).json()["status"] == "done"
        # It shows: /readyz (still ready: reads are served), /api/queues, the console's data, /metrics.
        ready = session.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["redis"] == "full" and ready.json()["memory"]["full"]
        assert session.get(f"{base}/api/queues", timeout=5).json()["redis"]["full"] is True
        assert session.get(f"{base}/api/painel", timeout=5).json()["redis"]["full"] is True
        metrics = session.get(f"{base}/metrics", timeout=5).text
        assert "fila_redis_full 1.0" in metrics and "fila_redis_memory_max_bytes" in metrics
        # The worker rides it out: resumed, it takes what it can; it neither crashes nor loses anything.
        session.post(f"{base}/api/queues/fila/resume", timeout=5).raise_for_status()
        pid = worker.pid
        wait_for(lambda: int(rdb.hget(keys.stats("fila"), "done") or 0) > 20 or "redis is full" in worker.output(),
                 timeout=20, message="the worker met the full Redis, or worked on")
        # Memory freed: writes are accepted again, and every accepted message ends done.
        rdb.delete("ballast")
        rdb.config_set("maxmemory", 0)
        assert session.post(f"{base}/api/messages", json={"body": "depois"}, timeout=5).status_code == 202
        wait_for(lambda: all(session.get(f"{base}/api/messages/{i}", timeout=5).json()["status"] == "done"
                             for i in accepted), timeout=30, interval=0.2, message="every accepted message done")
        assert worker.alive() and worker.pid == pid
        assert session.get(f"{base}/readyz", timeout=5).json()["redis"] == "ok"
        assert "fila_redis_full 0.0" in session.get(f"{base}/metrics", timeout=5).text
    finally:
        rdb.config_set("maxmemory", 0)
        if worker is not None:
            worker.stop()
        web.stop()
