"""The `fila` command: one entry point, its sub-commands, and the health checks it runs in containers."""

from __future__ import annotations

import subprocess
import sys
import time

import fakeredis

from cli import health, main
from shared.core import keys
from shared.core.settings import Settings
from tests.support.processes import ROOT


def test_usage_lists_every_command(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    for command in ("run", "worker", "load", "health", "redis"):
        assert f"  {command}" in out
    assert main(["nope"]) == 2


def test_fila_worker_is_python_m_worker():
    for argv in (["-m", "cli", "worker", "--help"], ["-m", "worker", "--help"]):
        out = subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=ROOT, timeout=30).stdout
        assert "--delivery" in out


def test_message_worker_health_needs_a_fresh_heartbeat_from_this_host(monkeypatch):
    client = fakeredis.FakeRedis(decode_responses=True)
    monkeypatch.setattr(health, "connect", lambda settings: client)
    settings = Settings()
    assert health.message_workers(settings, "host-a") == []
    client.sadd(keys.WORKERS, "host-a-1", "host-b-1")
    for name, host in (("host-a-1", "host-a"), ("host-b-1", "host-b")):
        client.hset(keys.worker(name), mapping={"host": host, "heartbeat_at": f"{time.time():.3f}"})
        client.set(keys.heartbeat(name), "1", px=10_000)
    assert health.message_workers(settings, "host-a") == ["host-a-1"]
    client.hset(keys.worker("host-a-1"), "heartbeat_at", f"{time.time() - 60:.3f}")
    assert health.message_workers(settings, "host-a") == []


def test_http_health_reads_options_anywhere(capsys):
    # As compose writes it: the option between the kind and the URL.
    assert health.main(["http", "--dashboard", "--timeout", "0.5", "http://127.0.0.1:1/"]) == 1
    assert "unhealthy: http://127.0.0.1:1/" in capsys.readouterr().out
