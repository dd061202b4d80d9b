"""The function RQ workers run for a Fibonacci job (RQ stores its path, `shared.jobs.tasks.fibonacci`, in the job)."""

from __future__ import annotations

import logging
import time

from rq import get_current_job

from shared.core import keys, tracing
from shared.jobs.fibonacci import Algorithm, compute, to_decimal

log = logging.getLogger(__name__)


#: The key of a job's meta that holds the `traceparent` of the span that enqueued it (tracing on).
TRACE_META = "traceparent"


def fibonacci(n: int, algorithm: str, cache_ttl: int) -> str:
    """Compute F(n), cache it under `fib:<n>` for `cache_ttl` seconds, return it in decimal (the job).

    With tracing on in the RQ worker (shared/jobs/rq_config.py), the job runs in a `fila process`
    span, a child of the span that enqueued it.
    """
    traced, job = tracing.active(), get_current_job()
    if traced is None or job is None:
        return _fibonacci(n, algorithm, cache_ttl)
    try:
        with traced.processing(job.origin, job.id, str(job.meta.get(TRACE_META) or ""),
                               (job.number_of_retries or 0) + 1, system="rq"):
            return _fibonacci(n, algorithm, cache_ttl)
    finally:
        traced.flush()  # the work horse ends with os._exit: nothing buffered would be sent


def _fibonacci(n: int, algorithm: str, cache_ttl: int) -> str:
    """Compute F(n), cache it, return it in decimal (fibonacci)."""
    start = time.perf_counter()
    result = to_decimal(compute(n, Algorithm(algorithm)))
    elapsed = time.perf_counter() - start
    job = get_current_job()
    if job is not None:
        job.connection.set(keys.fib(n), result, ex=cache_ttl)
    log.info("fib(%s, %s) = %s digits in %.4fs", n, algorithm, len(result), elapsed)
    return result
