"""Redis high availability: what REDIS_WAIT_REPLICAS costs, and what a failover loses with and without it.

    make bench BENCH_ARGS=wait        # local primary + replica: enqueue latency and HTTP throughput
    make bench BENCH_ARGS=failover        # the engine: ten failovers under load in each mode (about 15 min)
    make bench BENCH_ARGS=failover-lag    # the same, the replica cut off from the primary 1 s before each kill
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import redis

from benchmarks.http import ensure_wrk, run_wrk, wrk_script
from benchmarks.table import Row
from shared.core.connection import connect
from shared.core.settings import Settings
from shared.messages.queue import MessageQueue
from tests.support.polling import wait_for
from tests.support.processes import ROOT, start_granian
from tests.support.redis_server import RedisServer, free_port

FAILOVERS = 10
#: Seconds the replica is cut off from the primary before the kill in `failover-lag`.
LAG = 1.0


def latencies_ms(queue: MessageQueue, count: int) -> list[float]:
    """Enqueue one message `count` times; return each call's latency in ms, sorted."""
    out = []
    for number in range(count):
        began = time.perf_counter()
        queue.enqueue([json.dumps({"n": number})])
        out.append((time.perf_counter() - began) * 1000)
    return sorted(out)


def wait_cost(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """Enqueue latency (p50, p99) and HTTP throughput with REDIS_WAIT_REPLICAS=1 against 0, on a primary + replica."""
    count, seconds = (1000, 3) if quick else (5000, 8)
    with tempfile.TemporaryDirectory() as tmp:
        primary = RedisServer(Path(tmp) / "primary", fsync="everysec").start()
        replica = RedisServer(Path(tmp) / "replica", fsync="everysec")
        replica.extra = ["--replicaof", "127.0.0.1", str(primary.port)]
        replica.start()
        try:
            wait_for(lambda: primary.client().info("replication").get("slave0", {}).get("state") == "online",
                     timeout=20, message="the replica in sync")
            base = dataclasses.replace(settings, redis_url=primary.url)
            modes = {wait: dataclasses.replace(base, redis_wait_replicas=wait) for wait in (0, 1)}
            measured: dict[int, dict[str, float]] = {}
            for wait, chosen in modes.items():
                samples = latencies_ms(MessageQueue(connect(chosen), chosen), count)
                measured[wait] = {"p50": statistics.median(samples), "p99": samples[int(len(samples) * 0.99) - 1]}
            wrk = ensure_wrk()
            if wrk:
                with tempfile.TemporaryDirectory() as scripts:
                    single = wrk_script(json.dumps({"body": {"text": "hello world"}}), Path(scripts))
                    for wait, chosen in modes.items():
                        port = free_port()
                        server = start_granian(chosen, port)
                        try:
                            target = f"http://127.0.0.1:{port}/api/messages"
                            run_wrk(wrk, target, single, 1)
                            measured[wait]["http"] = max(run_wrk(wrk, target, single, seconds) for _ in range(2))
                        finally:
                            server.stop()
        finally:
            replica.stop()
            primary.stop()
    off, on = measured[0], measured[1]
    rows = [Row("wait", "enqueue 1 message, REDIS_WAIT_REPLICAS=1, p50", on["p50"], "ms", "no wait", off["p50"],
                lower_is_better=True),
            Row("wait", "enqueue 1 message, REDIS_WAIT_REPLICAS=1, p99", on["p99"], "ms", "no wait", off["p99"],
                lower_is_better=True)]
    if "http" in on:
        rows.append(Row("wait", "1 message per POST, granian, REDIS_WAIT_REPLICAS=1", on["http"], "req/s",
                        "no wait", off["http"]))
    return rows


def failovers(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """Kill the primary under load FAILOVERS times with REDIS_WAIT_REPLICAS=0 and =1; count what was lost."""
    return run_failovers(quick, replica_lag=0.0)


def lagging_failovers(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """The same, the replica cut off from the primary for a second before each kill (a slow or cut-off replica)."""
    return run_failovers(quick, replica_lag=LAG)


def run_failovers(quick: bool, replica_lag: float, waits: tuple[int, ...] = (0, 1)) -> list[Row]:
    """Kill the primary FAILOVERS times in each mode (REDIS_WAIT_REPLICAS in `waits`); return what was lost."""
    from tests.support import engine as engine_support
    from tests.support.failover import HA_FILE, failover
    from tests.support.project import Project, env_file

    times = 2 if quick else FAILOVERS
    section = "failover-lag" if replica_lag else "failover"
    engine = engine_support.start()
    rows = []
    try:
        engine_support.prepare_images(engine)
        with tempfile.TemporaryDirectory() as tmp:
            Project(engine, "fila-build", env_file(Path(tmp), engine)).compose("build", timeout=900)
            for wait in waits:
                directory = Path(tmp) / f"wait{wait}"
                directory.mkdir()
                project = Project(engine, f"fila-bench-ha-{uuid.uuid4().hex[:6]}",
                                  env_file(directory, engine, REDIS_WAIT_REPLICAS=str(wait), LOG_MESSAGES="0"),
                                  files=(ROOT / "compose.yaml", ROOT / HA_FILE))
                try:
                    project.compose("up", "-d", "--wait", timeout=600)
                    runs = []
                    for number in range(times):
                        result = failover(project, replica_lag=replica_lag)
                        runs.append(result)
                        print(f"   wait={wait} #{number + 1}: killed {result.killed}, {len(result.accepted)} accepted, "
                              f"{result.refused} x 503, other {sorted(set(result.codes) - {202, 503})}, "
                              f"accepting after {result.seconds_to_accepting:.1f}s, lost {len(result.lost)}; keyed: "
                              f"{len(result.retried_accepted)} accepted, {result.retries} retries, "
                              f"{len(result.retried_lost)} lost, {result.retried_duplicated} duplicated",
                              flush=True)
                        for at, who, what in result.timeline:
                            print(f"      {at:7.2f}s  {who:14s} {what}", flush=True)
                finally:
                    project.down()
                label = f"REDIS_WAIT_REPLICAS={wait}, {times} failovers" + (
                    f", replica cut off {replica_lag:.0f} s before each" if replica_lag else "")
                keyed = sum(len(run.retried_accepted) for run in runs)
                keyed_lost = sum(len(run.retried_lost) for run in runs)
                doubled = sum(run.retried_duplicated for run in runs)
                lost = sum(len(run.lost) for run in runs)
                accepted = sum(len(run.accepted) for run in runs)
                back = [run.seconds_to_accepting for run in runs]
                rows += [
                    Row(section, f"{label}: accepted, then lost", lost, "msgs",
                        f"of {accepted:,} accepted", target="0 with the wait" if wait else "",
                        met=(lost == 0) if wait else None, lower_is_better=True),
                    Row(section, f"{label}: clients retrying with an Idempotency-Key, accepted, then lost", keyed_lost,
                        "msgs", f"of {keyed:,} accepted ({sum(run.retries for run in runs)} retries)",
                        target="0 with the wait" if wait else "", met=(keyed_lost == 0) if wait else None,
                        lower_is_better=True),
                    Row(section, f"{label}: clients retrying with an Idempotency-Key, duplicated", doubled, "msgs",
                        target="0", met=doubled == 0, lower_is_better=True),
                    Row(section, f"{label}: 503 answers", sum(run.refused for run in runs), "answers",
                        lower_is_better=True),
                    Row(section, f"{label}: back to accepting, mean (max {max(back):.1f} s)",
                        statistics.mean(back), "s", lower_is_better=True),
                ]
    finally:
        engine.stop()
    return rows
