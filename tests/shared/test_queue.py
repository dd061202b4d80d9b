"""MessageQueue's Lua operations on a real redis-server: what each stores, and that it stores it once."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from shared.core import keys
from shared.core.connection import connect
from shared.core.ids import id_minute
from shared.messages import record
from shared.messages.queue import MessageQueue, NotReplicated, Settled
from shared.messages.status import Outcome


def test_reclaim_writes_the_record_module_s_record(settings, rdb):
    queue = MessageQueue(rdb, settings)
    (message_id,) = queue.enqueue(['"x"'])
    assert queue.take("w1", 10)
    rdb.lpush(keys.processing("w1"), "a raw value")  # a raw LPUSH taken by BLMOVE
    requeued, died = queue.reclaim("w1", "worker w1 died 100% of the time")
    assert (requeued, died) == (2, 0)
    stored = json.loads(rdb.hget(keys.results("fila", id_minute(message_id)), message_id))
    expected = json.loads(record.reclaimed_template("worker w1 died 100% of the time", stored["finished_at"]) % 1)
    assert stored == expected
    wrapped = [json.loads(e) for e in rdb.lrange("fila", 0, -1) if json.loads(e)["id"] != message_id]
    assert wrapped[0]["body"] == "a raw value" and wrapped[0]["attempts"] == 1


def test_settle_stores_once_even_when_retried(settings, rdb):
    queue = MessageQueue(rdb, settings)
    ids = queue.enqueue(['"a"', '"b"'])
    entries = queue.take("w1", 10)
    settled = [Settled(i, Outcome.OK, record.done('"w1"', 0, 1.0, 2.0, 1.0, '"r"')) for i in ids]
    assert queue.settle("w1", entries, settled, reliable=True) == (2, 0, 0)
    assert queue.settle("w1", entries, settled, reliable=True) == (-1, 0, 0)
    assert int(rdb.hget(keys.stats("fila"), "done")) == 2
    assert rdb.hlen(keys.pending("fila")) == 0 and rdb.llen(keys.processing("w1")) == 0


def test_waiting_longer_than_the_socket_timeout_for_a_replica_that_is_not_there(settings, rdb):
    waiting = dataclasses.replace(settings, redis_wait_replicas=1, redis_wait_timeout_ms=900,
                                  redis_socket_timeout=0.3)
    queue = MessageQueue(connect(waiting), waiting)
    began = time.monotonic()
    with pytest.raises(NotReplicated):  # not a socket timeout: WAIT answers "0 replicas" after 900 ms
        queue.enqueue(['"ninguém replica"'])
    assert 0.8 < time.monotonic() - began < 2
    assert rdb.llen(settings.queue_name) == 1  # it is in the queue all the same: a retry may repeat it, never lose it


@pytest.mark.parametrize("once", [False, True], ids=["enqueue", "enqueue_once"])
def test_a_failover_between_the_writes_and_their_wait_is_not_replicated_not_a_bad_request(settings, rdb, tmp_path,
                                                                                          once):
    """Sentinel demoted the primary between ENQUEUE and WAIT: WAIT answers an error; the write may be dropped."""
    from tests.support.redis_server import RedisServer

    demoted = RedisServer(tmp_path / "demoted")
    demoted.extra = ["--replicaof", "127.0.0.1", str(rdb.connection_pool.connection_kwargs["port"]),
                     "--replica-read-only", "no"]  # writable, so that the writes pass and the WAIT fails, as then
    demoted.start()
    try:
        waiting = dataclasses.replace(settings, redis_url=demoted.url, redis_wait_replicas=1)
        queue = MessageQueue(connect(waiting), waiting)
        with pytest.raises(NotReplicated, match="a failover came before the replicas acknowledged"):
            if once:
                queue.enqueue_once(['"x"'], None, "k" * 64, "d" * 64)
            else:
                queue.enqueue(['"x"', '"y"'])
        entries = queue.take("w1", 10)
        settled = [Settled(message_id, Outcome.OK, record.done('"w1"', 0, 1.0, 2.0, 1.0, '"r"'))
                   for message_id in [entry.split('"')[3] for entry in entries]]
        assert entries  # the writes passed (on a server about to drop them when it syncs)
        with pytest.raises(NotReplicated):  # the settle's WAIT fails the same way: the worker stores them again
            queue.settle("w1", entries, settled, reliable=True)
    finally:
        demoted.stop()
