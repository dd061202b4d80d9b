"""One `docker compose` project of fila's compose.yaml on a test engine, as a new user runs it."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import requests

from shared.core.settings import Settings
from tests.support.compose import read_env_file
from tests.support.engine import Engine
from tests.support.polling import wait_for, wait_http
from tests.support.processes import ROOT
from tests.support.redis_server import free_port

#: The host ports a user's .env sets; a test moves them all to free ports.
HOST_PORTS = ("REDIS_HOST_PORT", "WEB_PORT", "WEB_ALT_PORT", "DASHBOARD_PORT", "COMMANDER_PORT", "PROMETHEUS_PORT",
              "GRAFANA_PORT")


def env_file(directory: Path, engine: Engine, **overrides: str) -> Path:
    """Write a copy of .env.example with every host port moved and the engine's base images set."""
    values = read_env_file(ROOT / ".env.example")
    for name in HOST_PORTS:
        values[name] = str(free_port())
    values.update(engine.images)
    values.update(overrides)
    path = directory / ".env"
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return path


def clean_environment(engine: Engine) -> dict[str, str]:
    """Return this process's environment without fila's settings (compose would prefer them to .env)."""
    names = {name for name, _, _ in Settings.variables()} | set(HOST_PORTS)
    return {**{k: v for k, v in os.environ.items() if k not in names}, **engine.env}


@dataclass
class Project:
    """`docker compose -p NAME --env-file FILE -f compose.yaml ...` with helpers for the checks."""

    engine: Engine
    name: str
    env_path: Path
    profiles: tuple[str, ...] = ()
    files: tuple[Path, ...] = (ROOT / "compose.yaml",)
    values: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.values = read_env_file(self.env_path)

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        """Run `docker compose ARGS` for this project and return it (text output)."""
        argv = ["docker", "compose", "-p", self.name, "--env-file", str(self.env_path)]
        for path in self.files:
            argv += ["-f", str(path)]
        for profile in self.profiles:
            argv += ["--profile", profile]
        result = subprocess.run([*argv, *args], cwd=ROOT, env=clean_environment(self.engine), capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def url(self, port_variable: str = "WEB_PORT") -> str:
        """Return the host URL of a published port."""
        return f"http://127.0.0.1:{self.values[port_variable]}"

    def containers(self, service: str) -> list[str]:
        """Return the ids of a service's running containers."""
        out = self.compose("ps", "-q", service).stdout
        return [line for line in out.split() if line]

    def inspect(self, container: str, template: str) -> str:
        """Return `docker inspect -f TEMPLATE container`."""
        return self.engine.run("inspect", "-f", template, container).stdout.strip()

    def health(self) -> dict[str, str]:
        """Return {container name: health or state} for the project's containers."""
        out = self.compose("ps", "-a", "--format", "{{.Name}} {{.State}} {{.Health}}").stdout
        states = {}
        for line in out.splitlines():
            name, *rest = line.split()
            states[name] = rest[-1] if len(rest) > 1 else rest[0]
        return states

    def redis_cli(self, *args: str) -> str:
        """Run redis-cli inside the redis container, as the handout does, and return its output."""
        return self.compose("exec", "-T", "redis", "redis-cli", *args).stdout

    def wait_http(self, url: str, timeout: float = 60) -> None:
        """Wait until a URL answers 200."""
        wait_http(url, timeout, status=200)

    def finished_job(self, n: int) -> dict:
        """Enqueue a fast Fibonacci job through the web and return its status once it has finished."""
        url = self.url()
        job = requests.post(f"{url}/api/jobs/fib", json={"n": n, "algorithm": "fast"}, timeout=10).json()

        def finished() -> dict | None:
            status = requests.get(f"{url}/api/jobs/{job['id']}", timeout=5).json()
            return status if status["status"] == "finished" else None
        return wait_for(finished, timeout=60, message=f"job fib({n}) finished")

    def dashboard_queues(self) -> list[dict]:
        """Return rq-dashboard's queue list, read with the dashboard's credentials."""
        auth = (self.values["DASHBOARD_USERNAME"], self.values["DASHBOARD_PASSWORD"])
        reply = requests.get(f"{self.url('DASHBOARD_PORT')}/0/data/queues.json", auth=auth, timeout=10)
        queues: list[dict] = reply.json()["queues"]
        return queues

    def down(self) -> None:
        """Remove the project's containers, networks and volumes."""
        self.compose("--profile", "monitoring", "down", "-v", "--remove-orphans", "--timeout", "5", check=False,
                     timeout=300)
