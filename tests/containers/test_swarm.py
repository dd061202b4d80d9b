"""deploy/stack.yaml on a one-node Swarm: it deploys as the README writes it, scales, and loses nothing.

The sandbox's caveats (../shared notes): the ingress routing mesh does not answer from the host and
service VIPs are unreliable, so Redis uses DNS round robin (as the stack file says for everyone) and
the test talks to the web from inside its task with `docker exec`.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest
import yaml

from tests.containers.conftest import TIMINGS
from tests.support.polling import wait_for
from tests.support.processes import ROOT
from tests.support.project import clean_environment, env_file

pytestmark = [pytest.mark.containers, pytest.mark.slow, pytest.mark.timeout(900)]

STACK = ROOT / "deploy" / "stack.yaml"


def test_stack_file_is_generated_from_compose():
    stack, compose = yaml.safe_load(STACK.read_text()), yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert "name" not in stack and "version" not in stack
    for name, service in stack["services"].items():
        source = compose["services"][name]
        assert not {"build", "depends_on", "restart", "profiles"} & set(service), name
        for key in ("image", "command", "environment", "healthcheck", "user", "stop_grace_period", "configs"):
            assert service.get(key) == source.get(key), (name, key)
    assert "ports" not in stack["services"]["redis"]
    assert (STACK.parent / stack["configs"]["redis-start"]["file"]).resolve() == ROOT / "deploy/redis/redis-start.sh"
    assert stack["services"]["redis"]["deploy"]["endpoint_mode"] == "dnsrr"
    for name in ("dashboard", "redis-commander"):
        assert all(port["mode"] == "host" for port in stack["services"][name]["ports"]), name


class Swarm:
    """A stack on a one-node Swarm of the test engine."""

    def __init__(self, engine, name: str, variables: dict[str, str]):
        self.engine, self.name, self.variables = engine, name, variables

    def docker(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        env = {**clean_environment(self.engine), **self.variables}
        result = subprocess.run(["docker", *args], env=env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: {result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        return result

    def replicas(self) -> dict[str, str]:
        out = self.docker("service", "ls", "--filter", f"label=com.docker.stack.namespace={self.name}",
                          "--format", "{{.Name}} {{.Replicas}}").stdout
        return dict(line.split(maxsplit=1) for line in out.splitlines())

    def converged(self) -> bool:
        replicas = self.replicas()
        return bool(replicas) and all(value.split()[0].split("/")[0] == value.split()[0].split("/")[1]
                                      for value in replicas.values())

    def containers(self, service: str) -> list[str]:
        out = self.docker("ps", "-q", "--filter", f"label=com.docker.swarm.service.name={self.name}_{service}").stdout
        return out.split()

    def web(self, code: str) -> object:
        """Run Python inside the web task (the routing mesh does not answer from this host) and read its JSON."""
        (container, *_) = self.containers("web")
        return json.loads(self.docker("exec", container, "python", "-c", code, timeout=60).stdout)


CLIENT = """
import json, urllib.request
def call(path, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request("http://127.0.0.1:5000" + path, data=data,
                                     headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request, timeout=10).read())
"""


@pytest.fixture(scope="module")
def swarm(fila_images, tmp_path_factory):
    engine = fila_images
    variables = dict(line.split("=", 1) for line in
                     env_file(tmp_path_factory.mktemp("swarm"), engine, HEARTBEAT_TTL="3").read_text().splitlines())
    info = engine.run("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    initialised = info != "active"
    if initialised:
        engine.run("swarm", "init", "--advertise-addr", "127.0.0.1")
    stack = Swarm(engine, f"fila{uuid.uuid4().hex[:4]}", variables)
    began = time.monotonic()
    try:
        # The README's command (plus --resolve-image never: nothing here may ask a registry).
        stack.docker("stack", "deploy", "--resolve-image", "never", "-c", str(STACK), stack.name)
        wait_for(stack.converged, timeout=180, interval=1, message="every service converged")
        TIMINGS["swarm: deploy until converged"] = time.monotonic() - began
        yield stack
    finally:
        stack.docker("stack", "rm", stack.name, check=False)
        wait_for(lambda: not stack.docker("network", "ls", "-q", "--filter", f"name={stack.name}_").stdout.strip(),
                 timeout=60, interval=0.5, message="the stack's network removed")
        if initialised:
            engine.run("swarm", "leave", "--force", check=False)


def test_stack_deploys_converges_scales_and_loses_nothing(swarm):
    replicas = swarm.replicas()
    services = ("redis", "web", "worker", "worker-alta", "rq-worker", "dashboard", "redis-commander")
    assert set(replicas) == {f"{swarm.name}_{s}" for s in services}, replicas
    began = time.monotonic()
    swarm.docker("service", "scale", "--detach=false", f"{swarm.name}_worker=3", timeout=180)
    wait_for(lambda: len(swarm.containers("worker")) == 3, timeout=60, message="three worker tasks")
    ids = swarm.web(CLIENT + "print(json.dumps(call('/api/messages', [{'body': {'work_ms': 20, 'i': i}} "
                             "for i in range(300)])['ids']))")
    assert len(ids) == 300
    wait_for(lambda: swarm.web(CLIENT + "print(json.dumps(call('/api/queues')['queues'][0]['done']))") >= 30,
             timeout=60, message="work under way")
    victim = swarm.containers("worker")[0]
    swarm.docker("kill", "-s", "KILL", victim)

    def records():
        return swarm.web(CLIENT + f"ids = {ids!r}\nprint(json.dumps([call('/api/messages/' + i) for i in ids]))")

    wait_for(lambda: all(r["status"] == "done" for r in records()), timeout=120, interval=1,
             message="all 300 done after a task was killed")
    TIMINGS["swarm: scale to 3, 300 messages, one task killed"] = time.monotonic() - began
    done = records()
    workers = {r["worker"] for r in done}
    assert len(workers) >= 2, workers
    wait_for(swarm.converged, timeout=60, message="the killed task replaced")
    queues = swarm.web(CLIENT + "print(json.dumps(call('/api/queues')['queues'][0]))")
    assert queues["length"] == 0 and queues["in_flight"] == 0 and queues["dead"] == 0
    print(f"swarm: 300 messages done by {len(workers)} worker tasks; one killed, 0 lost")
