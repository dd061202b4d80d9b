"""Fibonacci on RQ: cached answer latency, fast fib(1,000,000), jobs per second against plain rq."""

from __future__ import annotations

import statistics
import sys
import time

import redis
import requests
from rq import Queue
from rq.serializers import JSONSerializer

from benchmarks.table import Row
from shared.core.connection import connect
from shared.core.settings import Settings
from shared.jobs.fibonacci import fib_fast, to_decimal
from shared.jobs.tasks import fibonacci
from tests.support.processes import BIN, Proc, child_env, start_granian
from tests.support.redis_server import free_port


def cached_latency(settings: Settings, client: redis.Redis, count: int) -> tuple[float, float]:
    """Return p50 (ms) of POST /api/jobs/fib for a cached n, and of GET /sem-redis as the floor."""
    client.set("fib:90", "2880067194370816120")
    port = free_port()
    web = start_granian(settings, port)
    session = requests.Session()
    try:
        def p50(call) -> float:
            times = []
            for _ in range(count):
                start = time.perf_counter()
                call()
                times.append((time.perf_counter() - start) * 1000)
            return statistics.median(times)

        url = f"http://127.0.0.1:{port}"
        assert session.post(f"{url}/api/jobs/fib", json={"n": 90}).status_code == 200
        cached = p50(lambda: session.post(f"{url}/api/jobs/fib", json={"n": 90, "algorithm": "fast"}))
        floor = p50(lambda: session.get(f"{url}/sem-redis"))
    finally:
        web.stop()
    return cached, floor


def jobs_per_second(settings: Settings, client: redis.Redis, processes: int, count: int, plain: bool) -> float:
    """Enqueue `count` small jobs, then time `processes` burst workers until the queue is done."""
    client.flushall()
    rq_connection = connect(settings, decode=False)
    if plain:
        queue = Queue("default", connection=rq_connection)
        command = [str(BIN / "rq"), "worker", "--burst", "--url", settings.redis_url, "default"]
    else:
        queue = Queue(settings.job_queue_name, connection=rq_connection, serializer=JSONSerializer)
        command = [str(BIN / "rq"), "worker", "--burst", "-c", "shared.jobs.rq_config", "--serializer", "json"]
    for n in range(count):
        queue.enqueue(fibonacci, args=(n % 50, "fast", 60), description=f"fib({n % 50}, fast)")
    start = time.perf_counter()
    procs = [Proc(command, child_env(settings), name="rq") for _ in range(processes)]
    for proc in procs:
        proc.process.wait(300)
    elapsed = time.perf_counter() - start
    finished = queue.finished_job_registry.count
    if finished != count:
        raise AssertionError(f"{finished} of {count} jobs finished")
    return count / elapsed


def rq_jobs(settings: Settings, client: redis.Redis, quick: bool) -> list[Row]:
    """The Fibonacci job figures."""
    cached, floor = cached_latency(settings, client, 200 if quick else 1000)
    sys.set_int_max_str_digits(0)
    start = time.perf_counter()
    value = fib_fast(1_000_000)
    compute = time.perf_counter() - start
    digits = to_decimal(value)
    total = time.perf_counter() - start
    start = time.perf_counter()
    assert fib_fast(100_000) > 0
    count = 100 if quick else 400
    rates = {(p, plain): jobs_per_second(settings, client, p, count, plain) for p in (1, 2) for plain in (False, True)}
    rows = [
        Row("jobs", "cached answer, POST /api/jobs/fib, p50", cached, "ms", "GET /sem-redis (no Redis)", floor,
            "<= 2 ms", cached <= 2, lower_is_better=True),
        Row("jobs", f"fast fib(1,000,000): compute {compute:.3f}s + decimal {total - compute:.3f}s "
                    f"({len(digits):,} digits)", total, "s"),
    ]
    for processes in (1, 2):
        rows.append(Row("jobs", f"{processes} fila RQ worker(s) (JSON, fila config), burst of {count}",
                        rates[(processes, False)], "jobs/s", f"plain `rq worker` x{processes}",
                        rates[(processes, True)]))
    return rows
