"""fila through Sentinel, on this machine's redis-server: a primary, a replica, three Sentinels, a failover."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import time

import pytest

from shared.core.connection import UNAVAILABLE, connect, parse_sentinel_url
from shared.core.settings import Settings
from shared.jobs.fibonacci import Algorithm
from shared.jobs.queue import JobQueue
from shared.messages.queue import MessageQueue, NotReplicated
from tests.support.polling import wait_for
from tests.support.processes import BIN, child_env
from tests.support.redis_server import RedisServer, free_port
from tests.support.sentinel import SERVICE, SentinelGroup
from web import create_app

pytestmark = pytest.mark.slow


def test_sentinel_urls_are_read_whole():
    address = parse_sentinel_url("redis+sentinel://fila:s%40nha@s1:26379,s2,s3:26380/fila/2")
    assert address.sentinels == [("s1", 26379), ("s2", 26379), ("s3", 26380)]
    assert (address.service, address.db, address.username, address.password) == ("fila", 2, "fila", "s@nha")
    with pytest.raises(ValueError):
        parse_sentinel_url("redis+sentinel://s1:26379")


@pytest.fixture
def group(tmp_path):
    started = SentinelGroup(tmp_path).start()
    yield started
    started.stop()


def test_a_failover_answers_503_then_the_new_primary_takes_over(group):
    settings = Settings(redis_url=group.url, redis_sentinel_password=group.sentinel_password, log_level="ERROR")
    client = connect(settings)
    assert client.set("curso", "Redis") and group.primary_port() == group.primary.port
    web = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    (before,) = web.post("/api/messages", json={"body": "antes"}).get_json()["ids"]
    client.wait(1, 1000)  # on the replica before the crash
    group.primary.kill()
    killed = time.monotonic()
    codes = []

    def promoted() -> bool:
        answer = web.get("/set/depois/da-queda")
        codes.append(answer.status_code)
        return answer.status_code == 200

    wait_for(promoted, timeout=30, interval=0.2, message="a replica promoted")
    took = time.monotonic() - killed
    assert set(codes) <= {503, 200} and codes[-1] == 200  # never a 500 while there is no primary
    assert group.primary_port() == group.replica.port
    assert web.get("/get/curso").get_data(as_text=True) == "Valor recuperado: Redis"
    assert web.get(f"/api/messages/{before}").get_json()["status"] == "queued"
    print(f"failover: new primary answering {took:.1f}s after the kill, {codes.count(503)} answers were 503")


def test_a_stale_sentinel_never_gets_the_write_with_the_shipped_timeouts(group, tmp_path):
    # A stale Sentinel, listed first, still names a primary that is healthy but no longer fila's:
    # here a Redis of its own, so that a client that believed it would write where nobody reads.
    stale = RedisServer(tmp_path / "stale", password=group.password).start()
    stale_port = free_port()
    group.start_sentinel("stale-sentinel", stale_port, stale.port, quorum=1)
    honest = group.sentinels[:3]
    try:
        wait_for(lambda: group.ask(stale_port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE), timeout=10)
        group.primary.kill()
        wait_for(lambda: group.primary_port() == group.replica.port, timeout=30, interval=0.2, message="promoted")
        hosts = ",".join(f"127.0.0.1:{port}" for port in [stale_port, *group.sentinel_ports])
        settings = Settings(redis_url=f"redis+sentinel://:{group.password}@{hosts}/{SERVICE}/0",
                            redis_sentinel_password=group.sentinel_password)
        shipped = Settings()
        assert (settings.redis_connect_timeout, settings.redis_socket_timeout) == (
            shipped.redis_connect_timeout, shipped.redis_socket_timeout)  # the defaults users get
        # The Sentinels that saw the failover are slow for a moment: only the stale one answers in time.
        for process in honest:
            os.kill(process.pid, signal.SIGSTOP)
        started = time.monotonic()
        try:
            with pytest.raises(UNAVAILABLE):
                connect(settings).set("escrito", "aqui")
            refused_in = time.monotonic() - started
        finally:
            for process in honest:
                os.kill(process.pid, signal.SIGCONT)
        assert stale.client().get("escrito") is None  # refused, not written where nobody reads
        # Refused within the timeouts: each Sentinel asked once per try (connect + command time).
        tries = settings.redis_retries + 1
        budget = tries * len(group.sentinel_ports) * (settings.redis_connect_timeout + settings.redis_socket_timeout)
        assert refused_in < budget + 2, (refused_in, budget)
        # Once they answer, the majority names the new primary and the write goes there (a Sentinel
        # that was stopped longer than down-after-milliseconds marks it down until its next ping).
        wait_for(lambda: connect(settings).set("escrito", "aqui"), timeout=30, interval=0.2,
                 message="the write went through")
        where = {"new primary": group.replica.client().get("escrito"), "stale": stale.client().get("escrito")}
        assert where == {"new primary": "aqui", "stale": None}
    finally:
        stale.stop()


def test_waiting_for_a_replica_refuses_what_no_replica_acknowledged(group):
    settings = Settings(redis_url=group.url, redis_sentinel_password=group.sentinel_password, log_level="ERROR",
                        redis_wait_replicas=1, redis_wait_timeout_ms=200)
    queue = MessageQueue(connect(settings), settings)
    assert len(queue.enqueue(['"seguro"'])) == 1  # the replica acknowledged it
    web = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    group.replica.kill()
    started = time.monotonic()
    with pytest.raises(NotReplicated):
        queue.enqueue(['"sem réplica"'])
    assert time.monotonic() - started < 1.0
    refused = web.post("/api/messages", json={"body": "sem réplica"})
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    unsafe = dataclasses.replace(settings, redis_wait_replicas=0)
    assert web.application and MessageQueue(connect(unsafe), unsafe).enqueue(['"sem esperar"'])


def test_rq_s_cli_and_fila_s_clients_read_the_sentinel_url(group):
    settings = Settings(redis_url=group.url, redis_sentinel_password=group.sentinel_password)
    connect(settings).set("quem", "fila")
    JobQueue(connect(settings, decode=False), settings).enqueue(10, Algorithm.FAST)
    # RQ's own CLI, configured by shared.jobs.rq_config as the RQ worker is: SENTINEL, not REDIS_URL.
    info = subprocess.run([str(BIN / "rq"), "info", "-c", "shared.jobs.rq_config", "--serializer", "json"],
                          env=child_env(settings), capture_output=True, text=True, timeout=30)
    assert info.returncode == 0, info.stdout + info.stderr
    assert "0 workers" in info.stdout
    assert re.search(rf"^{settings.job_queue_name}\s+\|", info.stdout, re.M)  # the job's queue is listed
    assert connect(settings, decode=False).get("quem") == b"fila"
    with pytest.raises(UNAVAILABLE):
        connect(dataclasses.replace(settings, redis_sentinel_password="errada")).ping()
