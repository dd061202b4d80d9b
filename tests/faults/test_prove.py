"""`fila prove kill-worker` on a real redis-server, beside a live worker of the deployment's own queue."""

from __future__ import annotations

import json
import subprocess

import pytest

from shared.core import keys
from shared.messages import proof
from tests.support.processes import BIN, child_env, start_worker
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
