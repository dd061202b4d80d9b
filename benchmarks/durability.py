"""What `appendfsync always` costs against the shipped `everysec`, measured in the same run.

    make bench BENCH_ARGS=fsync

`always` fsyncs the AOF before Redis answers each write: nothing acknowledged is lost even when the
machine stops (docs/reliability.md); `everysec` can lose about the last second of writes then.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import tempfile
from pathlib import Path

import redis

from benchmarks.ha import latencies_ms
from benchmarks.http import ensure_wrk, run_wrk, wrk_script
from benchmarks.table import Row
from shared.core.connection import connect
from shared.core.settings import Settings
from shared.messages.queue import MessageQueue
from tests.support.processes import start_granian
from tests.support.redis_server import RedisServer, free_port

MODES = ("everysec", "always")


def fsync_cost(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """Enqueue latency (p50, p99) and one-message POSTs per second under each fsync mode, on their own Redis."""
    count, seconds = (1000, 3) if quick else (5000, 8)
    measured: dict[str, dict[str, float]] = {}
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        single = wrk_script(json.dumps({"body": {"text": "hello world"}}), Path(tmp))
        for mode in MODES:
            server = RedisServer(Path(tmp) / mode, fsync=mode).start()
            try:
                chosen = dataclasses.replace(settings, redis_url=server.url)
                samples = latencies_ms(MessageQueue(connect(chosen), chosen), count)
                measured[mode] = {"p50": statistics.median(samples), "p99": samples[int(len(samples) * 0.99) - 1]}
                if wrk:
                    port = free_port()
                    web = start_granian(chosen, port)
                    try:
                        target = f"http://127.0.0.1:{port}/api/messages"
                        run_wrk(wrk, target, single, 1)
                        measured[mode]["http"] = max(run_wrk(wrk, target, single, seconds) for _ in range(2))
                    finally:
                        web.stop()
            finally:
                server.stop()
    shipped, safe = measured["everysec"], measured["always"]
    rows = [Row("fsync", "enqueue 1 message, appendfsync always, p50", safe["p50"], "ms", "everysec", shipped["p50"],
                lower_is_better=True),
            Row("fsync", "enqueue 1 message, appendfsync always, p99", safe["p99"], "ms", "everysec", shipped["p99"],
                lower_is_better=True)]
    if "http" in safe:
        rows.append(Row("fsync", "1 message per POST, granian, appendfsync always", safe["http"], "req/s",
                        "everysec", shipped["http"]))
    return rows
