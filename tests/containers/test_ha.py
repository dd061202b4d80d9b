"""Redis with Sentinel on a real engine: compose.yaml plus deploy/ha/compose.ha.yaml, a failover under load.

The project runs with REDIS_WAIT_REPLICAS=1, as an operator who cannot lose an accepted message
would run it: the test kills the primary's container in the middle of a steady producer and
asserts that the web only ever answered 202 or 503, that it went on by itself, and that every
accepted message ended done. `make bench failover` repeats this ten times with and without the wait.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.containers.conftest import TIMINGS
from tests.support.failover import HA_FILE, failover, primary, replica_in_sync
from tests.support.processes import ROOT
from tests.support.project import Project, env_file

pytestmark = [pytest.mark.containers, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def project(fila_images, tmp_path_factory):
    engine = fila_images
    directory = tmp_path_factory.mktemp("ha")
    proj = Project(engine, f"fila-ha-{uuid.uuid4().hex[:6]}", env_file(directory, engine, REDIS_WAIT_REPLICAS="1"),
                   files=(ROOT / "compose.yaml", ROOT / HA_FILE))
    began = time.monotonic()
    try:
        proj.compose("up", "-d", "--wait", timeout=600)
        TIMINGS["ha: up --wait (healthy)"] = time.monotonic() - began
        yield proj
    finally:
        proj.down()


def test_a_primary_a_replica_and_three_sentinels_with_everyone_behind_them(project):
    states = project.health()
    assert states and all(state == "healthy" for state in states.values()), states
    assert primary(project) == "redis" and replica_in_sync(project, "redis-replica")
    # Every client found the primary through the Sentinels, under its own Redis user.
    clients = project.redis_cli("CLIENT", "LIST")
    for name, user in (("fila-web", "fila"), ("fila-worker", "fila"), ("redis-commander", "commander")):
        assert any(f"name={name}" in line and f"user={user}" in line for line in clients.splitlines()), name
    # The replica has the same users: fila's still cannot flush it once it is the primary.
    refused = project.compose("exec", "-T", "redis-replica", "redis-cli", "--user", "fila", "--pass",
                              project.values["REDIS_FILA_PASSWORD"], "--no-auth-warning", "FLUSHALL").stdout
    assert "NOPERM" in refused
    # The Sentinels want their own password.
    anonymous = project.compose("exec", "-T", "sentinel-2", "env", "-u", "REDISCLI_AUTH", "redis-cli", "-p", "26379",
                                "sentinel", "masters").stdout
    assert "NOAUTH" in anonymous


def test_killing_the_primary_under_load_answers_503_then_recovers_losing_nothing(project):
    workers_before = {c: project.inspect(c, "{{.State.StartedAt}}") for c in project.containers("worker")}
    began = time.monotonic()
    result = failover(project)
    TIMINGS["ha: failover, back to accepting"] = result.seconds_to_accepting
    TIMINGS["ha: failover test"] = time.monotonic() - began
    print(f"failover with REDIS_WAIT_REPLICAS=1: killed {result.killed}; {len(result.accepted)} accepted, "
          f"{result.refused} answered 503, accepting again {result.seconds_to_accepting:.1f}s after the kill, "
          f"{len(result.lost)} accepted and never done")
    assert set(result.codes) <= {202, 503}, result.codes  # never a 500, never a dropped connection
    assert result.refused > 0  # the kill was felt...
    # ...and the web went on by itself: ~10 s with the wait, up to 35 s measured when the Sentinels
    # were slow to agree (README, Benchmarks); a minute means it did not.
    assert result.seconds_to_accepting < 60
    assert result.lost == []
    # The old primary came back as the new one's replica (it asked the Sentinels), not as a second primary.
    assert result.role_on_return == "slave"
    assert primary(project) == "redis-replica"
    workers_after = {c: project.inspect(c, "{{.State.StartedAt}}") for c in project.containers("worker")}
    assert workers_after == workers_before  # the workers resumed; none exited


def test_rq_and_its_dashboard_follow_the_new_primary(project):
    assert project.finished_job(50)["result"] == "12586269025"
    (fib,) = [q for q in project.dashboard_queues() if q["name"] == "fib"]
    assert fib["finished_job_registry_count"] >= 1
    assert requests.get(f"{project.url('COMMANDER_PORT')}/healthcheck", timeout=10).text.strip() == "ok"
