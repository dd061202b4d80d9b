"""Start fila's real processes (workers, gunicorn, rq, rq-dashboard) as subprocesses for tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from shared.core.settings import Settings
from tests.support import polling
from tests.support.polling import wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def child_env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return an environment carrying `settings`, with the project importable."""
    env = {k: v for k, v in os.environ.items() if k not in {n for n, _, _ in Settings.variables()}}
    env.update(settings.env())
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


#: Every child process a test started (tests/conftest.py stops those a test left running).
LIVE: list[Proc] = []


class Proc:
    """A child process whose output is collected line by line."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], name: str = "", cwd: Path = ROOT):
        self.args = list(args)
        self.name = name or Path(args[0]).name
        self.lines: list[str] = []
        self.process = subprocess.Popen(self.args, env=dict(env), cwd=cwd, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        LIVE.append(self)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def pid(self) -> int:
        """Return the process id."""
        return self.process.pid

    def output(self) -> str:
        """Return everything printed so far."""
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float = 15.0) -> str:
        """Wait until a printed line matches `pattern`; return it."""
        regex = re.compile(pattern)

        def found() -> str | None:
            return next((line for line in list(self.lines) if regex.search(line)), None)
        try:
            return wait_for(found, timeout=timeout, message=f"a line matching {pattern!r}", give_up=self.ended)
        except AssertionError as exc:
            raise AssertionError(f"{self.name}: {exc}; output:\n{self.output()[-3000:]}") from None

    def ended(self) -> str | None:
        """Say why the process can print nothing more (it exited and its output is read), or None."""
        if self.process.poll() is not None and not self._reader.is_alive():
            return f"{self.name} exited with {self.process.returncode}"
        return None

    def alive(self) -> bool:
        """Tell whether the process still runs."""
        return self.process.poll() is None

    def signal(self, signum: int) -> None:
        """Send a signal to the process."""
        if self.alive():
            self.process.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL the process and its children."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait, SIGKILL if needed; return the exit code."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reader.join(2)
        return self.process.returncode


def start_worker(settings: Settings, *args: str, extra_env: Mapping[str, str] | None = None,
                 tree: Path = ROOT) -> Proc:
    """Start `python -m worker` (of the checkout at `tree`: another commit's, for a benchmark) and wait for it."""
    env = child_env(settings, {"LOG_LEVEL": "INFO", **(extra_env or {}), "PYTHONPATH": str(tree)})
    proc = Proc([sys.executable, "-m", "worker", *args], env, name="worker", cwd=tree)
    proc.wait_for_line(r"starting: queue=")
    return proc


def start_rq_worker(settings: Settings, *extra: str) -> Proc:
    """Start RQ's own CLI worker as make run and compose do, and wait until it listens."""
    proc = Proc([str(BIN / "rq"), "worker", "-c", "shared.jobs.rq_config", "--with-scheduler", "--serializer", "json",
                 *extra], child_env(settings, {"LOG_LEVEL": "INFO"}), name="rq-worker")
    proc.wait_for_line(r"Listening on")
    return proc


def start_dashboard(settings: Settings, port: int, *extra: str, env: Mapping[str, str] | None = None) -> Proc:
    """Start rq-dashboard (JSON serializer) on 127.0.0.1:port and wait until it answers."""
    proc = Proc([str(BIN / "rq-dashboard"), "--bind", "127.0.0.1", "--port", str(port), "--redis-url",
                 settings.redis_url, "--json", *extra], child_env(settings, env), name="rq-dashboard")
    return wait_http(proc, f"http://127.0.0.1:{port}/healthz")


def wait_http(proc: Proc, url: str, timeout: float = 20.0) -> Proc:
    """Wait until `url` answers (any HTTP status), or fail with the process output."""
    try:
        polling.wait_http(url, timeout, give_up=lambda: None if proc.alive() else f"{proc.name} exited")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; output:\n{proc.output()[-3000:]}") from None
    return proc


def granian_args(port: int, workers: int = 2, threads: int = 2, host: str = "127.0.0.1") -> list[str]:
    """Return the command that serves the web app with granian, as make run and compose do."""
    return [str(BIN / "granian"), "--interface", "wsgi", "--host", host, "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads), "--no-ws", "--factory",
            "web:create_app"]


def start_granian(settings: Settings, port: int, workers: int = 2, threads: int = 2) -> Proc:
    """Serve the web app with granian on 127.0.0.1:port and wait until it answers."""
    proc = Proc(granian_args(port, workers, threads), child_env(settings), name="granian")
    return wait_http(proc, f"http://127.0.0.1:{port}/healthz")


def start_gunicorn(settings: Settings, port: int, workers: int = 4) -> Proc:
    """Serve the web app with gunicorn's sync workers (a benchmark comparison)."""
    proc = Proc([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                 "web:create_app()"], child_env(settings), name="gunicorn")
    return wait_http(proc, f"http://127.0.0.1:{port}/healthz")


def start_devserver(settings: Settings, port: int) -> Proc:
    """Serve the web app with Flask's development server (the handout's app.run), threaded."""
    code = f"from web import create_app; create_app().run(host='127.0.0.1', port={port}, threaded=True)"
    proc = Proc([sys.executable, "-c", code], child_env(settings), name="flask-dev")
    return wait_http(proc, f"http://127.0.0.1:{port}/healthz")
