"""Redis' users as deploy/redis/redis-start.sh makes them (compose, Swarm, HA, Kubernetes), on a real server.

Each user logs in and tries what an attacker holding its password would: read the secrets
(`CONFIG GET masterauth`, `requirepass`, other users' ACL), reach another database, flush the
scripts every fila process relies on. Then each does what its service needs.
"""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest
import redis

from tests.support.polling import wait_for
from tests.support.processes import ROOT
from tests.support.redis_server import free_port

USERS = {"default": "REDIS_PASSWORD", "web": "REDIS_WEB_PASSWORD", "worker": "REDIS_WORKER_PASSWORD",
         "rq": "REDIS_RQ_PASSWORD", "dashboard": "REDIS_DASHBOARD_PASSWORD", "commander": "REDIS_COMMANDER_PASSWORD"}
#: What no user but default may run: each reads a secret, leaves database 0, or breaks fila's scripts.
FORBIDDEN = [("CONFIG", "GET", "masterauth"), ("CONFIG", "GET", "requirepass"), ("CONFIG", "GET", "*"),
             ("ACL", "GETUSER", "default"), ("ACL", "LIST"), ("ACL", "USERS"), ("SELECT", "1"), ("MOVE", "k", "1"),
             ("SWAPDB", "0", "1"), ("SCRIPT", "FLUSH"), ("SCRIPT", "KILL"), ("FUNCTION", "FLUSH"),
             ("FUNCTION", "DELETE", "x"), ("FLUSHALL",), ("FLUSHDB",), ("KEYS", "*"), ("DEBUG", "SLEEP", "0"),
             ("SHUTDOWN",), ("MONITOR",), ("CLIENT", "LIST"), ("CLIENT", "KILL", "ID", "1"), ("SLAVEOF", "NO", "ONE"),
             ("SORT", "alist", "BY", "nosort", "GET", "*"), ("MIGRATE", "x", "1", "k", "0", "1")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """redis-server started by the deploy script, with a password per user."""
    directory = tmp_path_factory.mktemp("redis-users")
    passwords = {variable: secrets.token_urlsafe(16) for variable in USERS.values()}
    port = free_port()
    env = {**os.environ, **passwords, "REDIS_DATA_DIR": str(directory), "REDIS_CONF_DIR": str(directory)}
    process = subprocess.Popen(["sh", str(ROOT / "deploy/redis/redis-start.sh"), "--port", str(port), "--bind",
                                "127.0.0.1", "--save", ""], env=env, stdout=subprocess.DEVNULL)
    try:
        def login(user: str) -> redis.Redis:
            return redis.Redis(port=port, username=user, password=passwords[USERS[user]], decode_responses=True,
                               socket_timeout=5)
        wait_for(lambda: login("default").ping(), timeout=10, message="redis-server started by the script",
                 give_up=lambda: None if process.poll() is None else "it exited")
        admin = login("default")
        admin.set("curso", "Redis")
        admin.rpush("alist", "1")
        yield login, passwords
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.parametrize("user", [u for u in USERS if u != "default"])
@pytest.mark.parametrize("command", FORBIDDEN, ids=" ".join)
def test_no_user_but_the_administrator_reads_a_secret_or_leaves_database_0(server, user, command):
    login, passwords = server
    client = login(user)
    # NOPERM from the ACL (DEBUG is refused even before it, by enable-debug-command).
    with pytest.raises(redis.exceptions.ResponseError, match=r"no permissions|DEBUG command not allowed"):
        reply = client.execute_command(*command)
        # Should a command slip through, nothing it answered may be a password.
        assert not any(password in str(reply) for password in passwords.values())


def test_the_administrator_still_can(server):
    login, passwords = server
    admin = login("default")
    assert admin.config_get("masterauth")["masterauth"] == passwords["REDIS_PASSWORD"]
    assert set(admin.acl_users()) == set(USERS)


def test_the_web_user_reaches_any_key_of_database_0(server):
    web = login_as(server, "web")
    web.set("minhaChave", "meuValor")
    web.lpush("fila", "mensagem")
    web.hset("fila:stats:fila", "enqueued", 1)
    web.set("rq:job:x", "1")
    assert web.get("curso") == "Redis"
    script = web.register_script("return redis.call('GET', KEYS[1])")
    assert script(keys=["curso"]) == "Redis"  # fila's Lua runs (EVALSHA, SCRIPT LOAD)


def test_workers_reach_fila_s_keys_and_the_queue_only(server):
    worker = login_as(server, "worker")
    worker.lpush("fila", "m")
    assert worker.lpop("fila") == "m"
    worker.hset("fila:pending:fila", "id", "")
    worker.set("fila:heartbeat:w1", "1", px=1000)
    assert worker.register_script("return redis.call('HGET', KEYS[1], 'id')")(keys=["fila:pending:fila"]) == ""
    for forbidden in (lambda: worker.get("curso"), lambda: worker.set("rq:x", "1"), lambda: worker.set("hits", "1")):
        with pytest.raises(redis.exceptions.NoPermissionError):
            forbidden()


def test_rq_workers_reach_rq_s_keys_and_the_fibonacci_cache_only(server):
    rq = login_as(server, "rq")
    rq.set("fib:10", "55", ex=60)
    rq.hset("rq:job:abc", "status", "queued")
    rq.publish("rq:pubsub:worker", "x")
    for forbidden in (lambda: rq.get("curso"), lambda: rq.get("fila:stats:fila"), lambda: rq.lpush("fila", "x")):
        with pytest.raises(redis.exceptions.NoPermissionError):
            forbidden()


def test_the_dashboard_reaches_rq_s_keys_only(server):
    dashboard = login_as(server, "dashboard")
    assert dashboard.hget("rq:job:abc", "status") == "queued"
    with pytest.raises(redis.exceptions.NoPermissionError):
        dashboard.get("curso")


def test_commander_reads_everything_and_writes_nothing(server):
    commander = login_as(server, "commander")
    assert commander.get("curso") == "Redis" and commander.type("curso") == "string"
    assert "curso" in list(commander.scan_iter(count=100)) and commander.dbsize() >= 1
    assert commander.ttl("curso") == -1 and commander.memory_usage("curso") > 0
    assert commander.info("server")["redis_version"]
    for forbidden in (lambda: commander.set("x", "1"), lambda: commander.delete("curso"),
                      lambda: commander.eval("return 1", 0), lambda: commander.publish("c", "x")):
        with pytest.raises(redis.exceptions.NoPermissionError):
            forbidden()


def login_as(server, user: str) -> redis.Redis:
    login, _ = server
    return login(user)
