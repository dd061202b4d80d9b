"""Which redis-server `fila run` and the tests start: the first of Redis 7 or newer, not the first on PATH."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli import redis as redis_cli
from tests.support.processes import ROOT


def fake(directory: Path, version: str) -> Path:
    """Write a redis-server that only says its version (as `redis-server --version` does)."""
    directory.mkdir(parents=True)
    binary = directory / "redis-server"
    binary.write_text(f"#!/bin/sh\necho 'Redis server v={version} sha=00000000:0 malloc=libc bits=64'\n")
    binary.chmod(0o755)
    return binary


def test_an_older_redis_first_on_path_is_passed_over_for_a_newer_one(tmp_path, monkeypatch):
    old, new = fake(tmp_path / "venv-bin", "6.2.14"), fake(tmp_path / "usr-bin", "7.0.15")
    monkeypatch.setenv("PATH", f"{old.parent}:{new.parent}")
    redis_cli.version_of.cache_clear()
    assert redis_cli.version_of(str(old)) == (6, 2, 14) and redis_cli.find_redis_server() == str(new)


def test_with_only_an_older_redis_it_is_used_and_serve_says_what_fails(tmp_path, monkeypatch):
    old = fake(tmp_path / "only", "6.2.14")
    monkeypatch.setenv("PATH", f"{old.parent}")
    monkeypatch.setattr(redis_cli, "bundled", lambda: [])
    redis_cli.version_of.cache_clear()
    assert redis_cli.find_redis_server() == str(old)
    env = {"PATH": f"{old.parent}", "PYTHONPATH": str(ROOT)}
    probe = "import cli.redis as r; r.bundled = lambda: []; import sys; sys.exit(r.serve([]))"
    said = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=30)
    assert "is Redis 6.2.14: fila needs 7.0 or newer" in said.stderr and "apt-get install redis-server" in said.stderr
