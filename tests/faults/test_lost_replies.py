"""Replies lost mid-call: Redis ran TAKE, SETTLE, CLAIM or ENQUEUE, and the connection dropped before its reply
came back (a TCP proxy that cuts on purpose). redis-py sends the call again; nothing may be lost, and
what runs twice is bounded and counted. And results expire after RESULT_TTL, as documented.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from shared.core import keys
from shared.core.connection import connect
from shared.messages import lua
from shared.messages.queue import MessageQueue
from tests.support.cutting_proxy import CuttingProxy
from tests.support.polling import wait_for
from tests.support.processes import start_worker

pytestmark = pytest.mark.slow

MESSAGES = 3000


def test_lost_replies_lose_nothing_and_store_each_result_once(settings, rdb, redis_server):
    proxy = CuttingProxy(redis_server.port, {"ENQUEUE": lua.ENQUEUE, "TAKE": lua.TAKE, "SETTLE": lua.SETTLE,
                                             "CLAIM": lua.CLAIM})
    through = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{proxy.port}/0", log_level="INFO")
    worker = None
    try:
        queue = MessageQueue(connect(through), through)
        ids = []
        for start in range(0, MESSAGES, 100):
            if start in (500, 1500, 2500):
                proxy.arm("ENQUEUE")  # one at a time: the call redis-py sends again goes through
            ids += queue.enqueue([json.dumps({"work_ms": 1, "i": i}) for i in range(start, start + 100)])
        assert proxy.cuts["ENQUEUE"] == 3  # three replies lost, and redis-py sent each call again
        assert rdb.llen("fila") == MESSAGES and int(rdb.hget(keys.stats("fila"), "enqueued")) == MESSAGES
        worker = start_worker(through)
        for round_ in range(3):
            for name in ("TAKE", "SETTLE"):
                proxy.arm(name)
                wait_for(lambda n=name, r=round_: proxy.cuts[n] == r + 1, timeout=30, interval=0.01,
                         message=f"a {name} cut")
        proxy.arm("CLAIM")
        wait_for(lambda: int(rdb.hget(keys.stats("fila"), "done") or 0) >= MESSAGES, timeout=120, interval=0.2,
                 message="every message done")
        # The last of the queue goes through BLMOVE then CLAIM: send one more if its cut has not come.
        if proxy.budget["CLAIM"]:
            ids += queue.enqueue(['"a last one"'])
            wait_for(lambda: not proxy.budget["CLAIM"], timeout=30, message="a CLAIM cut")
            wait_for(lambda: int(rdb.hget(keys.stats("fila"), "done")) >= len(ids), timeout=30, message="done")
        wait_for(lambda: rdb.llen("fila") == 0 and not rdb.llen(keys.processing(worker_name(rdb))), timeout=30,
                 message="nothing held")
        statuses = [MessageQueue(rdb, settings).redis.hget(keys.results("fila", minute(i)), i) for i in ids]
        lost = [i for i, record in zip(ids, statuses, strict=True) if not record or '"status":"done"' not in record]
        runs = len(re.findall(r" done attempts=", worker.output()))
        stored = int(rdb.hget(keys.stats("fila"), "done"))
        print(f"\n{dict(proxy.cuts)} replies lost: {len(ids)} messages, {len(lost)} lost, {stored} results stored, "
              f"{runs} runs ({runs - len(ids)} ran twice)")
        where = {i: (rdb.hget(keys.pending("fila"), i), rdb.hexists(keys.dead_letters("fila"), i)) for i in lost}
        assert lost == [], (where, ids.index(lost[0]) if lost else None, worker.output()[-3000:])
        assert stored == len(ids)  # each result stored once
        assert all(proxy.cuts[name] == times for name, times in (("TAKE", 3), ("SETTLE", 3), ("CLAIM", 1)))
        # A lost TAKE's batch waits in the processing list until the worker gives it back; a lost SETTLE
        # is found done; only what a worker had run and could not store runs again: a batch per cut at most.
        assert runs - len(ids) <= 3 * through.worker_batch_max
        assert worker.alive()
    finally:
        if worker is not None:
            worker.stop()
        proxy.close()


def worker_name(rdb) -> str:
    (name,) = rdb.smembers(keys.WORKERS)
    return str(name)


def minute(message_id: str) -> int:
    from shared.core.ids import id_minute

    return id_minute(message_id)


def test_results_expire_after_result_ttl(settings, rdb, client):
    settings = dataclasses.replace(settings, result_ttl=1)
    worker = start_worker(settings)
    try:
        (message_id,) = MessageQueue(connect(settings), settings).enqueue(['"curta"'])
        wait_for(lambda: client.get(f"/api/messages/{message_id}").get_json().get("status") == "done",
                 message="done")
        bucket = keys.results("fila", minute(message_id))
        assert 0 < rdb.pttl(bucket) <= 1000
        wait_for(lambda: client.get(f"/api/messages/{message_id}").status_code == 404, timeout=5, interval=0.1,
                 message="the result expired")
        assert client.get(f"/api/messages/{message_id}").get_json()["error"] == "unknown_message"
        assert not rdb.exists(bucket)
    finally:
        worker.stop()
