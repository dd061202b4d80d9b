"""`fila prove` on real redis-servers: kill-worker beside a live worker of the deployment's own queue, restart-redis
beside `make run`, failover under three Sentinels."""

from __future__ import annotations

import dataclasses
import json
import subprocess

import pytest

from cli.prove import count_runs
from shared.core import keys
from shared.core.codec import dumps
from shared.core.settings import Settings
from shared.messages import proof, record
from shared.messages.queue import MessageQueue, Settled
from shared.messages.status import Outcome
from tests.support.processes import BIN, child_env, start_worker
from tests.support.sentinel import SentinelGroup
from web import create_app

pytestmark = pytest.mark.slow


def prove(settings, *args: str, allowed: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `fila prove kill-worker ARGS` as an operator would, on the test's Redis."""
    env = child_env(settings, {"LANG": "C.UTF-8", "ALLOW_EXPERIMENTS": "1" if allowed else "0"})
    return subprocess.run([str(BIN / "fila"), "prove", "kill-worker", *args], env=env, capture_output=True,
                          text=True, timeout=240)


def test_it_is_refused_unless_the_deployment_allows_experiments(settings, rdb):
    refused = prove(settings, "--messages", "100", allowed=False)
    assert refused.returncode == 2 and "ALLOW_EXPERIMENTS=1" in refused.stderr
    assert not rdb.keys("*prove*") and not rdb.exists("prove")  # nothing sent, nothing kept
    assert prove(settings, "--messages", "5").returncode == 2  # out of range: 10 to 100,000


def test_a_worker_killed_mid_batch_loses_nothing_when_reliable_and_its_batch_with_brpop(settings, rdb):
    live = start_worker(settings, "--name", "live")  # the deployment's own worker, on its own queue
    try:
        reliable = prove(settings, "--messages", "800", "--delivery", "reliable", "--json")
        assert reliable.returncode == 0, reliable.stderr
        brpop = prove(settings, "--messages", "800", "--delivery", "brpop", "--json")
        assert brpop.returncode == 0, brpop.stderr
        assert rdb.sismember(keys.WORKERS, "live")  # never reaped by the experiment's workers
    finally:
        live.stop()
    kept, lost_one = json.loads(reliable.stdout), json.loads(brpop.stdout)
    assert (kept["accepted"], kept["done"], kept["lost"], kept["kills"]) == (800, 800, 0, 1)
    assert "killed" in reliable.stderr and "reaped dead worker" in reliable.stderr
    # The handout's loop: what the killed worker held and had not run is gone, and nothing ran twice.
    assert lost_one["accepted"] == 800 and 0 < lost_one["lost"] <= 50 and lost_one["duplicated"] == 0
    assert lost_one["done"] + lost_one["lost"] == 800
    # The deployment's queue saw none of it, and the experiment left no queue behind.
    assert int(rdb.hget(keys.stats("fila"), "enqueued") or 0) == 0 and rdb.llen("fila") == 0
    assert not rdb.exists("prove", keys.pending("prove"), keys.stats("prove")) and not rdb.keys(keys.proof_runs("*"))
    # Kept for the console and the scrape: the last one of each mode.
    client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
    shown = client.get("/api/experiments").get_json()
    assert shown["allowed"] is False and [r["delivery"] for r in shown["results"]] == ["reliable", "brpop"]
    assert shown["results"][0]["says"].startswith("A worker was killed with SIGKILL 1 time(s)")
    assert shown["results"][1]["lost"] == lost_one["lost"]
    scraped = client.get("/metrics").get_data(as_text=True)
    assert f'fila_prove_lost{{delivery="brpop",experiment="kill-worker"}} {lost_one["lost"]}.0' in scraped
    assert 'fila_prove_lost{delivery="reliable",experiment="kill-worker"} 0.0' in scraped
    assert 0 < rdb.ttl(keys.proof_result("kill-worker", "brpop")) <= proof.RESULT_TTL


def test_restart_redis_kills_make_runs_redis_mid_stream_and_nothing_accepted_is_lost(tmp_path):
    """`fila prove restart-redis` beside `make run`: its Redis killed with SIGKILL, started again by make run."""
    import requests

    from tests.cli.test_run import child_env_without_settings, fila_run, free_ports, served, stop
    from tests.support.polling import wait_for

    ports = free_ports()
    run = fila_run(tmp_path, {**ports, "ALLOW_EXPERIMENTS": "1"})
    url = f"http://127.0.0.1:{ports['WEB_PORT']}"
    try:
        wait_for(lambda: served(ports["WEB_PORT"]), timeout=60, message="the web answers")
        env = {**child_env_without_settings(), "FILA_VAR": str(tmp_path / "var"), "ALLOW_EXPERIMENTS": "1",
               "LANG": "C.UTF-8"}
        ran = subprocess.run([str(BIN / "fila"), "prove", "restart-redis", "--messages", "2000", "--json"], env=env,
                             capture_output=True, text=True, timeout=240)
        assert ran.returncode == 0, ran.stderr
        found = json.loads(ran.stdout)
        assert "killed redis-server" in ran.stderr
        run.wait_for_line(r"redis-server \(pid \d+\) ended with -9: starting it again from its data")
        # make run goes on: its own queue still works after the restart.
        answer = requests.post(f"{url}/api/messages", json={"body": "depois"}, timeout=10).json()
        wait_for(lambda: requests.get(f"{url}/api/messages/{answer['ids'][0]}", timeout=5).json()["status"] == "done",
                 timeout=30, message="a message done after the restart")
        shown = requests.get(f"{url}/api/experiments", timeout=10).json()["results"]
        scraped = requests.get(f"{url}/metrics", timeout=10).text
    finally:
        stop(run)
    # Every number was either accepted or refused (the sender told), and nothing accepted was lost.
    assert found["accepted"] + found["refused"] == 2000 and found["refused"] >= 10 and found["accepted"] >= 667
    assert (found["lost"], found["appendfsync"], found["kills"]) == (0, "everysec", 1)
    assert found["done"] >= found["accepted"]  # a refused send whose reply alone was cut may have run too
    assert [(r["experiment"], r["lost"]) for r in shown] == [("restart-redis", 0)]
    assert 'fila_prove_lost{delivery="reliable",experiment="restart-redis"} 0.0' in scraped


def test_restart_redis_refuses_a_redis_make_run_did_not_start(settings, rdb):
    env = child_env(settings, {"LANG": "C.UTF-8", "ALLOW_EXPERIMENTS": "1"})
    refused = subprocess.run([str(BIN / "fila"), "prove", "restart-redis"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == 1 and "it kills the redis-server that `make run` started" in refused.stderr
    assert rdb.ping() and not rdb.exists("prove")  # nothing killed, nothing sent


def test_failover_refuses_a_redis_url_that_names_no_sentinel(settings, rdb):
    env = child_env(settings, {"LANG": "C.UTF-8", "ALLOW_EXPERIMENTS": "1"})
    refused = subprocess.run([str(BIN / "fila"), "prove", "failover"], env=env, capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == 1 and "this REDIS_URL names no Sentinel" in refused.stderr
    assert not rdb.exists("prove")


def test_a_run_whose_count_went_with_a_demoted_primary_is_told_by_its_done_record(settings, rdb):
    # In a failover the handler's count (its own connection, no WAIT) can reach the primary being demoted
    # while the worker's settle stores the record on the new one: the record says the number ran.
    own = dataclasses.replace(settings, queues=(*settings.queue_names, proof.QUEUE)).for_queue(proof.QUEUE)
    queue = MessageQueue(rdb, own)
    ids = queue.enqueue([dumps({"n": n, "run": "r"}) for n in range(3)])
    entries = queue.take("w1", 10)
    assert entries is not None and len(entries) == 3
    results = {ids[0]: 0, ids[1]: 1, ids[2]: 0}  # the third's record names another number: not its run
    settled = [Settled(i, Outcome.OK, record.done('"w1"', 1, 1.0, 2.0, 1.0, dumps({"n": results[i]}))) for i in ids]
    assert queue.settle("w1", entries, settled, reliable=True) == (3, 0, 0)
    (waiting,) = queue.enqueue([dumps({"n": 3, "run": "r"})])  # accepted, never ran
    rdb.hincrby(keys.proof_runs("r"), "0", 2)  # counted twice; 1's count lost; 4 never accepted
    assert count_runs(rdb, own, "r", 5, {0: ids[0], 1: ids[1], 2: ids[2], 3: waiting}) == [2, 1, 0, 0, 0]


def test_failover_under_sentinels_loses_nothing_accepted_with_the_wait(tmp_path):
    """`fila prove failover` on this machine's Sentinels, REDIS_WAIT_REPLICAS=1: refused or run, never lost."""
    group = SentinelGroup(tmp_path).start()
    try:
        before = group.primary_port()
        settings = Settings(redis_url=group.url, redis_sentinel_password=group.sentinel_password,
                            redis_wait_replicas=1, log_level="WARNING")
        env = child_env(settings, {"LANG": "C.UTF-8", "ALLOW_EXPERIMENTS": "1", "FILA_VAR": str(tmp_path / "var")})
        ran = subprocess.run([str(BIN / "fila"), "prove", "failover", "--messages", "1500", "--json"], env=env,
                             capture_output=True, text=True, timeout=240)
        assert ran.returncode == 0, ran.stderr
        found = json.loads(ran.stdout)
        assert f"to fail fila over from 127.0.0.1:{before}" in ran.stderr
        assert group.primary_port() == group.replica.port != before  # the replica was promoted
    finally:
        group.stop()
    assert found["accepted"] + found["refused"] == 1500 and found["accepted"] >= 500, found
    assert (found["lost"], found["wait_replicas"], found["experiment"]) == (0, 1, "failover"), ran.stderr
    assert found["done"] >= found["accepted"]
