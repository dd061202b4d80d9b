"""Bulk load of the handout's CSV: fila load (/api/bulk) against the handout's curl loop."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import redis

from benchmarks.table import Row
from cli.load import load
from shared.core.settings import Settings
from tests.support.processes import ROOT, child_env, start_granian
from tests.support.redis_server import free_port


def bulk(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """100,000 rows through fila load; the curl loop timed on a sample and scaled."""
    rows, sample = (20_000, 100) if quick else (100_000, 300)
    client.flushall()
    port = free_port()
    web = start_granian(settings, port)
    url = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "dados.csv"
            big.write_text("".join(f"chave{i},valor{i}\n" for i in range(rows)))
            totals = load(big, url, chunk=10_000, quiet=True)
            assert totals["loaded"] == rows and client.dbsize() == rows
            small = Path(tmp) / "amostra.csv"
            small.write_text("".join(f"amostra{i},valor{i}\n" for i in range(sample)))
            start = time.perf_counter()
            subprocess.run(["bash", str(ROOT / "scripts/carga.sh"), str(small)], check=True, capture_output=True,
                           env=child_env(settings, {"FILA_URL": url}))
            loop_rate = sample / (time.perf_counter() - start)
            assert client.get(f"amostra{sample - 1}") == f"valor{sample - 1}"
    finally:
        web.stop()
        client.flushall()
    rate = rows / totals["seconds"]
    return [Row("bulk", f"{rows:,} rows, fila load -> /api/bulk ({totals['seconds']:.2f}s)", rate, "rows/s",
                f"curl loop ({sample} rows, scaled: {rows / loop_rate:,.0f}s for {rows:,})", loop_rate,
                ">= 500x the curl loop", rate >= 500 * loop_rate)]
