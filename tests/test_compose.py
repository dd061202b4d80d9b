"""compose.yaml and the Dockerfiles, read without an engine: schema, hadolint, exposure.

What they do when they run is proven on a real engine in tests/containers/.
"""

from __future__ import annotations

import json
import re
import subprocess
from importlib import resources

import jsonschema
import pytest
import yaml

from tests.support import compose
from tests.support.processes import BIN, ROOT

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
        assert "ARG PYTHON_IMAGE=python:3.12" in text and "slim" in text and "FROM ${PYTHON_IMAGE}" in text
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
    redis = spec["services"]["redis"]
    assert redis["command"] == ["sh", "/usr/local/etc/fila/redis-start.sh"]
    assert redis["configs"] == [{"source": "redis-start", "target": "/usr/local/etc/fila/redis-start.sh"}]
    assert spec["configs"]["redis-start"]["file"] == "./deploy/redis/redis-start.sh"
    script = (ROOT / "deploy/redis/redis-start.sh").read_text()
    assert "nopass" not in script
    for user in ("default", "web", "worker", "rq", "dashboard", "commander"):
        assert f"user {user} on >$" in script, user  # every Redis user has a password
    # Each fila service logs in as its own user, with the password the redis service gives that user.
    users = {"web": ("web", "REDIS_WEB_PASSWORD"), "worker": ("worker", "REDIS_WORKER_PASSWORD"),
             "rq-worker": ("rq", "REDIS_RQ_PASSWORD")}
    values = compose.read_env_file(ROOT / ".env.example")
    for name, (user, variable) in users.items():
        env = compose.service_env(spec["services"][name])
        assert env["REDIS_URL"] == f"redis://{user}:{values[variable]}@redis:6379/0", name
        assert compose.service_env(redis)[variable] == values[variable], name
        assert env["ADMIN_PASSWORD"], name
    assert "redis:7." in spec["services"]["redis"]["image"] and "alpine" in spec["services"]["redis"]["image"]
    with pytest.raises(KeyError, match="REDIS_PASSWORD"):
        compose.load({"REDIS_PASSWORD": ""})


def test_a_dead_web_worker_is_replaced_in_the_image_and_in_compose():
    spec = compose.load()
    assert "--respawn-failed-workers" in spec["services"]["web"]["command"]
    assert '"--respawn-failed-workers"' in (ROOT / "Dockerfile.web").read_text()


class ComposeLoader(yaml.SafeLoader):
    """YAML as Compose reads it: `!reset` and `!override` take the value that follows them."""


ComposeLoader.add_constructor("!reset", lambda loader, node: loader.construct_sequence(node)
                              if isinstance(node, yaml.SequenceNode) else loader.construct_object(node))
ComposeLoader.add_constructor("!override", lambda loader, node: loader.construct_sequence(node)
                              if isinstance(node, yaml.SequenceNode) else loader.construct_mapping(node))


def test_the_high_availability_override_matches_the_specification_and_keeps_every_secret_in_env():
    schema = json.loads(resources.files("check_jsonschema.builtin_schemas.vendor").joinpath(
        "compose-spec.json").read_text())
    raw = (ROOT / "deploy" / "ha" / "compose.ha.yaml").read_text()
    override = yaml.load(raw, Loader=ComposeLoader)  # a SafeLoader subclass
    jsonschema.validate(override, schema)
    services = override["services"]
    assert {"redis-replica", "sentinel-1", "sentinel-2", "sentinel-3"} <= set(services)
    assert services["redis-replica"]["ports"] == []  # the replica is not published on the host
    # Every fila process goes through the Sentinels, under its own Redis user.
    for name, user in (("web", "web"), ("worker", "worker"), ("rq-worker", "rq")):
        env = services[name]["environment"]
        assert env["REDIS_URL"].startswith(f"redis+sentinel://{user}:") and "REDIS_SENTINEL_PASSWORD" in env
    # Passwords only as variables, never written into the file; new variables are in .env.example.
    assert "troque" not in raw and "SENTINEL_PASSWORD" in compose.read_env_file(ROOT / ".env.example")
    required = set(re.findall(r"\$\{([A-Z_]+):\?", raw))
    assert "SENTINEL_PASSWORD" in required and required <= set(compose.read_env_file(ROOT / ".env.example"))
