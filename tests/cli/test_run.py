"""`fila run` (make run) as a user runs it: the whole system under honcho, with its own redis-server.

Each test starts everything (Redis, web on two ports, a worker, the RQ worker, rq-dashboard and
Redis Commander) on free ports, with data in a temp folder. The .env is the checkout's own, where
both `fila run` and honcho look for it: a developer's .env is set aside for the test and put back.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import redis
import requests

from shared.core import tokens
from tests.support.polling import wait_for
from tests.support.processes import ROOT, Proc, child_env
from tests.support.redis_server import free_port

pytestmark = pytest.mark.slow

PORTS = ("WEB_PORT", "WEB_ALT_PORT", "DASHBOARD_PORT", "COMMANDER_PORT", "REDIS_PORT")


@pytest.fixture
def dot_env():
    """Write the checkout's .env for one test (setting a developer's own aside), remove it after."""
    path, aside = ROOT / ".env", ROOT / ".env.set-aside-by-tests"
    if path.exists():
        path.rename(aside)
    yield lambda values: path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    path.unlink(missing_ok=True)
    if aside.exists():
        aside.rename(path)


def fila_run(tmp: Path, shell: dict[str, str]) -> Proc:
    """Start `fila run` with these shell variables, as `make run` does; wait for its banner."""
    env = child_env_without_settings()
    env.update({"WORKERS": "1", "FILA_LANGUAGE": "en", **shell})
    proc = Proc([sys.executable, "-m", "cli", "run", "--var", str(tmp / "var")], env, name="fila-run")
    proc.wait_for_line(r"fila is starting", timeout=120)
    return proc


def child_env_without_settings() -> dict[str, str]:
    from shared.core.settings import Settings

    env = child_env(Settings())
    for name, _, _ in Settings.variables():
        env.pop(name, None)
    return env


def stop(proc: Proc) -> None:
    """Stop honcho as Ctrl-C does, and wait for everything it started."""
    if proc.alive():
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.process.wait(30)
        except Exception:
            proc.kill()


def free_ports() -> dict[str, str]:
    return {name: str(free_port()) for name in PORTS}


def served(port: str) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_the_shell_wins_over_dot_env_and_the_printed_urls_are_served(tmp_path, dot_env):
    shell, in_file = free_ports(), free_ports()
    dot_env({**in_file, "QUEUE_NAME": "fila_do_arquivo"})
    proc = fila_run(tmp_path, {**shell, "QUEUE_NAME": "fila_do_shell"})
    try:
        wait_for(lambda: served(shell["WEB_PORT"]), timeout=60, message="the shell's WEB_PORT answers")
        printed = proc.output()
        assert f"http://localhost:{shell['WEB_PORT']}/" in printed
        assert "admin         open: no ADMIN_PASSWORD" in printed
        assert in_file["WEB_PORT"] not in printed
        assert served(shell["WEB_ALT_PORT"])
        assert not served(in_file["WEB_PORT"]) and not served(in_file["WEB_ALT_PORT"])
        # Every process got the shell's value, not only the ones whose command line carries it.
        url = f"http://127.0.0.1:{shell['WEB_PORT']}"
        (message_id,) = requests.post(f"{url}/api/messages", json={"body": "x"}, timeout=5).json()["ids"]
        assert requests.get(f"{url}/api/queues", timeout=5).json()["queues"][0]["name"] == "fila_do_shell"
        wait_for(lambda: requests.get(f"{url}/api/messages/{message_id}", timeout=5).json()["status"] == "done",
                 timeout=30, message="the worker consumed the shell's queue")
    finally:
        stop(proc)


def test_dot_env_still_sets_what_the_shell_does_not(tmp_path, dot_env):
    ports = free_ports()
    dot_env({"WEB_PORT": ports["WEB_PORT"]})
    proc = fila_run(tmp_path, {k: v for k, v in ports.items() if k != "WEB_PORT"})
    try:
        wait_for(lambda: served(ports["WEB_PORT"]), timeout=60, message=".env's WEB_PORT answers")
        assert f"http://localhost:{ports['WEB_PORT']}/" in proc.output()
    finally:
        stop(proc)


def commander_connections(port: str) -> list[int]:
    reply = requests.get(f"http://127.0.0.1:{port}/connections", timeout=2).json()
    return [c["options"]["port"] for c in reply["connections"]]


def test_redis_commander_shows_exactly_this_run_s_redis(tmp_path):
    seen = []
    for run in range(2):  # each run on another Redis port, as when 6379 is taken by something else
        ports = free_ports()
        proc = fila_run(tmp_path / f"run{run}", ports)
        try:
            wait_for(lambda p=ports: commander_connections(p["COMMANDER_PORT"]), timeout=60,
                     message="Redis Commander answers")
            seen.append(commander_connections(ports["COMMANDER_PORT"]))
            assert seen[-1] == [int(ports["REDIS_PORT"])]
        finally:
            stop(proc)
    assert len(seen) == 2 and seen[0] != seen[1]


def test_a_killed_web_worker_is_replaced_and_the_web_keeps_answering(tmp_path):
    ports = free_ports()
    proc = fila_run(tmp_path, {**ports, "WEB_WORKERS": "2"})
    try:
        url = f"http://127.0.0.1:{ports['WEB_PORT']}"
        wait_for(lambda: served(ports["WEB_PORT"]), timeout=60, message="web answers")

        def workers() -> list[psutil.Process]:
            serving = f"--port {ports['WEB_PORT']} "
            main = next(p for p in psutil.Process(proc.pid).children(recursive=True)
                        if "granian" in (line := " ".join(p.cmdline())) and serving in line)
            return [c for c in main.children() if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]

        before = wait_for(lambda: len(workers()) == 2 and workers(), timeout=30, message="two granian workers")
        victim = before[0]
        victim.kill()
        wait_for(lambda: len(workers()) == 2 and victim.pid not in {w.pid for w in workers()}, timeout=30,
                 message="the killed worker replaced")
        wait_for(lambda: served(ports["WEB_PORT"]), timeout=10, message="web answers after the respawn")
        answers = [requests.get(f"{url}/sem-redis", timeout=2).status_code for _ in range(20)]
        assert answers == [200] * 20
        assert proc.alive()  # honcho (and so the whole of fila) is still up
    finally:
        stop(proc)


def test_hand_run_tools_use_the_redis_fila_run_started_and_never_guess_one(tmp_path):
    """`fila token create` under `fila run` lands in the Redis it started (not 6379), says so; with none, refuses."""
    ports = free_ports()  # REDIS_PORT among them: not 6379, as when 6379 belongs to another Redis
    var = tmp_path / "var"
    proc = fila_run(tmp_path, ports)
    tool_env = {**child_env_without_settings(), "FILA_VAR": str(var), "FILA_LANGUAGE": "en"}
    try:
        wait_for(lambda: served(ports["WEB_PORT"]), timeout=60, message="web answers")
        assert json.loads((var / "run.json").read_text())["redis_url"] == f"redis://127.0.0.1:{ports['REDIS_PORT']}/0"
        created = subprocess.run([sys.executable, "-m", "cli", "token", "create", "--ttl", "60"], env=tool_env,
                                 capture_output=True, text=True, timeout=30)
        assert created.returncode == 0, created.stderr
        assert f"fila: Redis redis://127.0.0.1:{ports['REDIS_PORT']}/0 (from {var / 'run.json'})" in created.stderr
        ours = redis.Redis(port=int(ports["REDIS_PORT"]), decode_responses=True)
        assert ours.keys("fila:token:*") and tokens.verify(ours, created.stdout.strip()) is not None
    finally:
        stop(proc)
    assert not (var / "run.json").exists()  # gone with the run that wrote it
    refused = subprocess.run([sys.executable, "-m", "cli", "token", "create"], env=tool_env, capture_output=True,
                             text=True, timeout=30)
    assert refused.returncode == 1 and "no fila Redis found" in refused.stderr and refused.stdout == ""


def test_ctrl_c_ends_make_run_with_0(tmp_path):
    """In a terminal, Ctrl-C stops everything and `make run` exits 0 (make itself is not interrupted)."""
    ports = free_ports()
    env = {**child_env_without_settings(), **ports, "WORKERS": "1", "FILA_VAR": str(tmp_path / "var"),
           "FILA_LANGUAGE": "en"}
    pid, terminal = pty.fork()
    if pid == 0:  # the child: make in a new session, on the pseudo-terminal, as in a shell
        os.chdir(ROOT)
        os.execvpe("make", ["make", "--no-print-directory", "run"], env)
    printed = bytearray()

    def read_some() -> str:
        ready, _, _ = select.select([terminal], [], [], 0.2)
        if ready:
            with contextlib.suppress(OSError):
                printed.extend(os.read(terminal, 65536))
        return printed.decode(errors="replace")

    try:
        wait_for(lambda: "Ctrl-C here stops everything" in read_some() and served(ports["WEB_PORT"]), timeout=180,
                 message="make run serves")
        os.write(terminal, b"\x03")  # Ctrl-C, as typed: the terminal signals its foreground group
        wait_for(lambda: "redis.1 stopped" in read_some(), timeout=60, message="everything stopped")
        _, status = os.waitpid(pid, 0)
        text = read_some()
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0, text[-2000:]
    assert "Error" not in text.split("Ctrl-C here stops everything")[-1] and "Interrupt" not in text
    assert not served(ports["WEB_PORT"])


def test_named_queues_on_make_run_are_all_served(tmp_path):
    """QUEUES=fila,alta,baixa make run: one worker serves every queue; each message ends done in its own queue."""
    ports = free_ports()
    proc = fila_run(tmp_path, {**ports, "QUEUES": "fila,alta,baixa", "QUEUE_BAIXA_MAX_ATTEMPTS": "1"})
    try:
        wait_for(lambda: served(ports["WEB_PORT"]), timeout=60, message="the web answers")
        url = f"http://127.0.0.1:{ports['WEB_PORT']}"
        sent = {queue: requests.post(f"{url}/api/queues/{queue}/messages", json={"body": queue}, timeout=5).json()
                for queue in ("fila", "alta", "baixa")}
        assert [answer["queue"] for answer in sent.values()] == ["fila", "alta", "baixa"]

        def finished() -> bool:
            return all(requests.get(f"{url}/api/messages/{answer['ids'][0]}", timeout=5).json()["status"] == "done"
                       for answer in sent.values())
        wait_for(finished, timeout=30, message="a message of each queue done")
        (worker,) = requests.get(f"{url}/api/workers", timeout=5).json()["workers"]
        assert worker["queues"] == ["fila", "alta", "baixa"]
        assert [q["name"] for q in requests.get(f"{url}/api/queues", timeout=5).json()["queues"]] == \
            ["fila", "alta", "baixa", "fib"]
    finally:
        stop(proc)


def test_traces_on_make_run_follow_a_message_and_a_job_across_every_process(tmp_path):
    """OTEL_EXPORTER_OTLP_ENDPOINT=... make run: the web, the worker and the RQ worker each send their spans."""
    from tests.support.otlp import Receiver

    ports = free_ports()
    with Receiver() as receiver:
        proc = fila_run(tmp_path, {**ports, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url})
        try:
            assert f"traces        {receiver.url}/v1/traces  (OTLP/HTTP, 100% of new traces kept)" in proc.output()
            wait_for(lambda: served(ports["WEB_PORT"]), timeout=60, message="the web answers")
            url = f"http://127.0.0.1:{ports['WEB_PORT']}"
            assert requests.post(f"{url}/api/messages", json={"body": "olá"}, timeout=5).status_code == 202
            assert requests.post(f"{url}/api/jobs/fib", json={"n": 12}, timeout=5).status_code == 202
            wait_for(lambda: all(receiver.named(name, service) for name, service in (
                ("fila send fila", "fila-web"), ("fila process fila", "fila-worker"), ("fila send fib", "fila-web"),
                ("fila process fib", "fila-rq-worker"))), timeout=30, message="the spans of each process")
        finally:
            stop(proc)
    for name, queue in (("fila process fila", "fila"), ("fila process fib", "fib")):
        (attempt,) = receiver.named(name)
        (send,) = receiver.named(f"fila send {queue}", "fila-web")
        assert (attempt.trace_id, attempt.parent_id) == (send.trace_id, send.span_id)
