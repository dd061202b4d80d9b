"""HTTP producer throughput with wrk: one message per POST, and batches."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import redis

from benchmarks.table import Row
from shared.core.settings import Settings
from tests.support.processes import Proc, start_devserver, start_granian, start_gunicorn
from tests.support.redis_server import free_port

BATCH = 1000


def ensure_wrk() -> str | None:
    """Return wrk's path, installing Debian's package when it is missing and apt-get is usable."""
    found = shutil.which("wrk")
    if found or not shutil.which("apt-get"):
        return found
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
    return shutil.which("wrk")


def wrk_script(body: str, directory: Path) -> Path:
    path = directory / f"post-{abs(hash(body))}.lua"
    path.write_text('wrk.method = "POST"\n'
                    f"wrk.body = {json.dumps(body)}\n"
                    'wrk.headers["Content-Type"] = "application/json"\n')
    return path


def run_wrk(wrk: str, url: str, script: Path, seconds: int, connections: int = 32) -> float:
    """Return requests/s; fail when any answer is not 2xx."""
    out = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
                         check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out or ("Socket errors" in out and "timeout 0" not in out):
        bad = re.findall(r"(Non-2xx.*|Socket errors.*)", out)
        if any("Non-2xx" in b for b in bad):
            raise AssertionError(f"wrk saw failures: {bad}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def serve(kind: str, settings: Settings, port: int) -> Proc:
    starters = {"flask-dev": start_devserver, "gunicorn": start_gunicorn, "granian": start_granian}
    return starters[kind](settings, port)


def single_posts(variants: dict[str, Settings], client: redis.Redis, seconds: int,
                 rounds: int) -> dict[str, list[float]] | None:
    """One message per POST on granian, each variant of the settings in turn, `rounds` times: req/s of each run.

    None when wrk is not there (it says so): the caller measures nothing.
    """
    wrk = ensure_wrk()
    if wrk is None:
        print("wrk is not installed and could not be installed: the producer's cost is not measured")
        return None
    rates: dict[str, list[float]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        single = wrk_script(json.dumps({"body": {"text": "hello world"}}), Path(tmp))
        for _ in range(rounds):
            for name, variant in variants.items():
                client.flushall()
                port = free_port()
                server = serve("granian", variant, port)
                try:
                    run_wrk(wrk, f"http://127.0.0.1:{port}/api/messages", single, 1)  # warm up
                    rates[name].append(run_wrk(wrk, f"http://127.0.0.1:{port}/api/messages", single, seconds))
                finally:
                    server.stop()
    client.flushall()
    return rates


def producer(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """One message per POST on three servers; batches of 1000 on fila's server."""
    wrk = ensure_wrk()
    if wrk is None:
        print("wrk is not installed and could not be installed: HTTP benchmarks skipped")
        return []
    seconds = 3 if quick else 8
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        single = wrk_script(json.dumps({"body": {"text": "hello world"}}), Path(tmp))
        batch = wrk_script(json.dumps([{"body": {"text": f"hello {i}"}} for i in range(BATCH)]), Path(tmp))
        for kind in ("flask-dev", "gunicorn", "granian"):
            client.flushall()
            port = free_port()
            server = serve(kind, settings, port)
            try:
                run_wrk(wrk, f"http://127.0.0.1:{port}/api/messages", single, 1)  # warm up
                # Best of two runs for every server alike: this VM's noise is larger than a run's error.
                rates[kind] = max(run_wrk(wrk, f"http://127.0.0.1:{port}/api/messages", single, seconds)
                                  for _ in range(2))
                if kind == "granian":
                    client.flushall()
                    rates["batch"] = BATCH * run_wrk(wrk, f"http://127.0.0.1:{port}/api/messages", batch, seconds,
                                                     connections=4)
            finally:
                server.stop()
        client.flushall()
    dev = rates["flask-dev"]
    return [
        Row("http", "1 message per POST, granian (2 workers x 2 threads)", rates["granian"], "req/s",
            "Flask dev server", dev, ">= 5x dev server", rates["granian"] >= 5 * dev),
        Row("http", "1 message per POST, gunicorn (4 sync workers)", rates["gunicorn"], "req/s",
            "Flask dev server", dev),
        Row("http", f"batches of {BATCH} per POST, granian", rates["batch"], "msg/s",
            "1 per POST, granian", rates["granian"], ">= 200,000 msg/s", rates["batch"] >= 200_000),
    ]
