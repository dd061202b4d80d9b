"""The function RQ workers run for a Fibonacci job (RQ stores its path, `shared.jobs.tasks.fibonacci`, in the job)."""

from __future__ import annotations

import logging
import time

from rq import get_current_job

from shared.core import keys
from shared.jobs.fibonacci import Algorithm, compute, to_decimal

log = logging.getLogger(__name__)


def fibonacci(n: int, algorithm: str, cache_ttl: int) -> str:
    """Compute F(n), cache it under `fib:<n>` for `cache_ttl` seconds, return it in decimal (the job)."""
    start = time.perf_counter()
    result = to_decimal(compute(n, Algorithm(algorithm)))
    elapsed = time.perf_counter() - start
    job = get_current_job()
    if job is not None:
        job.connection.set(keys.fib(n), result, ex=cache_ttl)
    log.info("fib(%s, %s) = %s digits in %.4fs", n, algorithm, len(result), elapsed)
    return result
