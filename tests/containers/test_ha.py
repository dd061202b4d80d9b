"""Redis with Sentinel on a real engine: compose.yaml plus deploy/ha/compose.ha.yaml, failovers under load.

Four failovers, each killing the primary's container in the middle of a steady producer: with
REDIS_WAIT_REPLICAS=1 (as an operator who cannot lose an accepted message runs it) and then with
the shipped default 0, each with the replica in step and with the replica cut off from the primary
for a second before the kill. Every time the web answers only 202 or 503 and goes on by itself; with
the wait nothing accepted is lost; without it, a replica in step loses nothing and a cut-off one
loses what only the primary had, and nothing else. `make bench failover` repeats these ten times each.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests

from tests.containers.conftest import TIMINGS
from tests.support.compose import read_env_file
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
    for name, user in (("fila-web", "web"), ("fila-worker", "worker"), ("redis-commander", "commander")):
        assert any(f"name={name}" in line and f"user={user}" in line for line in clients.splitlines()), name
    # The replica has the same users: fila's still cannot flush it once it is the primary.
    refused = project.compose("exec", "-T", "redis-replica", "redis-cli", "--user", "web", "--pass",
                              project.values["REDIS_WEB_PASSWORD"], "--no-auth-warning", "FLUSHALL").stdout
    assert "NOPERM" in refused
    # The Sentinels want their own password.
    anonymous = project.compose("exec", "-T", "sentinel-2", "env", "-u", "REDISCLI_AUTH", "redis-cli", "-p", "26379",
                                "sentinel", "masters").stdout
    assert "NOAUTH" in anonymous


def check(project: Project, result, wait: int, label: str) -> None:
    """What every failover must show: 202 or 503 only, back by itself, the old primary back as a replica."""
    TIMINGS[f"ha: failover, WAIT={wait}, {label}, back to accepting"] = result.seconds_to_accepting
    print(f"failover with REDIS_WAIT_REPLICAS={wait}, {label}: killed {result.killed}; {len(result.accepted)} "
          f"accepted, {result.refused} answered 503, accepting again {result.seconds_to_accepting:.1f}s after the "
          f"kill, {len(result.lost)} accepted and never done ({len(result.accepted_while_cut)} accepted while cut)")
    print(f"  retrying clients (Idempotency-Key, queue alta): {len(result.retried_accepted)} accepted after "
          f"{result.retries} retries, {len(result.retried_lost)} lost, {result.retried_duplicated} duplicated")
    for at, who, what in result.timeline:
        print(f"  {at:7.2f}s  {who:14s} {what}")
    assert set(result.codes) <= {202, 503}, result.codes
    # A client that sends a message again with its key after a 503 or a timeout never doubles it.
    assert result.retried_accepted and result.retried_duplicated == 0  # never a 500, never a dropped connection
    assert result.refused > 0  # the kill was felt...
    # ...and the web went on by itself: ~10 s with the wait, 35 s once measured when the Sentinels were
    # slow to agree (docs/benchmarks.md); a minute means it did not.
    assert result.seconds_to_accepting < 60
    # The old primary came back as the new one's replica (it asked the Sentinels), not as a second primary.
    assert result.role_on_return == "slave"


def test_with_the_wait_a_failover_loses_nothing_replica_in_step_or_cut_off(project):
    workers_before = {c: project.inspect(c, "{{.State.StartedAt}}") for c in project.containers("worker")}
    for label, lag in (("replica in step", 0.0), ("replica cut off 1 s", 1.0)):
        survivor = "redis-replica" if primary(project) == "redis" else "redis"
        result = failover(project, replica_lag=lag)
        check(project, result, 1, label)
        assert result.lost == [] and result.retried_lost == []
        assert primary(project) == survivor
    workers_after = {c: project.inspect(c, "{{.State.StartedAt}}") for c in project.containers("worker")}
    assert workers_after == workers_before  # the workers resumed; none exited


def test_fila_prove_failover_in_a_worker_container_loses_nothing_accepted_with_the_wait(project):
    """`fila prove failover`: the Sentinels fail the primary over mid-stream, asked with the container's password."""
    before = primary(project)
    refused = project.compose("exec", "-T", "worker", "fila", "prove", "failover", check=False)
    assert refused.returncode == 2 and "ALLOW_EXPERIMENTS=1" in refused.stderr
    ran = project.compose("exec", "-T", "-e", "ALLOW_EXPERIMENTS=1", "worker", "fila", "prove", "failover",
                          "--messages", "1500", "--json", timeout=300)
    found = json.loads(ran.stdout)
    TIMINGS[f"ha: fila prove failover, 1,500 messages: {found['accepted']:,} accepted, {found['refused']:,} refused, "
            f"{found['lost']} lost, {found['duplicated']} run twice"] = found["seconds"]
    assert f"to fail fila over from {before}:6379" in ran.stderr, ran.stderr
    assert primary(project) not in ("", before)  # the replica was promoted
    assert found["accepted"] + found["refused"] == 1500 and found["accepted"] >= 500, found
    assert (found["lost"], found["wait_replicas"], found["experiment"]) == (0, 1, "failover"), ran.stderr
    assert found["done"] >= found["accepted"]


def test_without_the_wait_only_what_the_replica_never_had_is_lost(project):
    # The shipped default: writes do not wait for the replica.
    values = read_env_file(project.env_path)
    values["REDIS_WAIT_REPLICAS"] = "0"
    project.env_path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    project.compose("up", "-d", "--wait", timeout=600)
    (web,) = project.containers("web")
    assert "REDIS_WAIT_REPLICAS=0" in project.engine.run("exec", web, "env").stdout
    steady = failover(project)
    check(project, steady, 0, "replica in step")
    assert steady.lost == [] and steady.retried_lost == []  # the primary had sent every acknowledged write
    cut = failover(project, replica_lag=1.0)
    check(project, cut, 0, "replica cut off 1 s")
    # What the primary acknowledged while the replica was cut off existed nowhere else: some of it is
    # lost, and nothing accepted before the cut or after the failover.
    assert cut.lost and set(cut.lost) <= set(cut.accepted_while_cut)


def test_rq_and_its_dashboard_follow_the_new_primary(project):
    assert project.finished_job(50)["result"] == "12586269025"
    (fib,) = [q for q in project.dashboard_queues() if q["name"] == "fib"]
    assert fib["finished_job_registry_count"] >= 1
    assert requests.get(f"{project.url('COMMANDER_PORT')}/healthcheck", timeout=10).text.strip() == "ok"
