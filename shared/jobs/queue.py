"""The job queue the web app reads and writes: enqueue Fibonacci jobs, fetch and cancel them, the figures.

Arguments and results are JSON (RQ's JSONSerializer): pickle would let anyone who can write
to Redis run code on the workers. Every rq call gets its connection explicitly.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import redis
from rq import Queue, Retry
from rq.command import send_stop_job_command
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.serializers import JSONSerializer
from rq.worker import Worker

from shared.core.settings import Settings
from shared.jobs.fibonacci import Algorithm
from shared.jobs.tasks import TRACE_META, fibonacci

if TYPE_CHECKING:
    from shared.core.otel import Tracing

log = logging.getLogger(__name__)

#: Results longer than this are summarised (head...tail) and served whole at their own URL.
SUMMARY_DIGITS = 80


def summarise(result: str | None) -> dict[str, Any]:
    """Describe a decimal result: whole when short, head...tail and digit count when long."""
    if result is None:
        return {"result": None}
    if len(result) <= SUMMARY_DIGITS:
        return {"result": result, "digits": len(result)}
    return {"result": f"{result[:30]}...{result[-30:]}", "digits": len(result), "truncated": True}


class JobQueue:
    """Fibonacci jobs on RQ: enqueue, fetch, cancel, and the figures and latest jobs for the pages."""

    def __init__(self, connection: redis.Redis, settings: Settings, tracing: Tracing | None = None):
        """Use `connection` (RQ needs `decode_responses=False`); with `tracing`, an enqueue is a span."""
        self.redis = connection
        self.settings = settings
        self.tracing = tracing
        self.rq = Queue(settings.job_queue_name, connection=connection, serializer=JSONSerializer)

    def enqueue(self, n: int, algorithm: Algorithm, delay_ms: int = 0, timeout_ms: int | None = None,
                job_id: str | None = None, meta: dict[str, Any] | None = None) -> Job:
        """Enqueue F(n) with fila's timeouts, TTLs and retries (RQ's `Retry`, `job_timeout`).

        With `delay_ms` the job waits in RQ's scheduled registry (`enqueue_in`) until an RQ worker
        started `--with-scheduler` moves it onto the queue; `timeout_ms` replaces JOB_TIMEOUT for
        this job (RQ counts whole seconds: it is rounded up). With tracing on, the enqueue is a
        `fila send` span and the job's meta carries its `traceparent` (shared.jobs.tasks continues it).
        """
        if self.tracing is None:
            return self._enqueue(n, algorithm, delay_ms, timeout_ms, job_id, meta)
        with self.tracing.sending(self.settings.job_queue_name, 1, system="rq") as (traceparent, _trace_id):
            return self._enqueue(n, algorithm, delay_ms, timeout_ms, job_id, {**(meta or {}), TRACE_META: traceparent})

    def _enqueue(self, n: int, algorithm: Algorithm, delay_ms: int, timeout_ms: int | None, job_id: str | None,
                 meta: dict[str, Any] | None) -> Job:
        """Enqueue F(n) (enqueue)."""
        settings = self.settings
        # RQ types the intervals as int; it sleeps on them, so fractions of a second work too.
        intervals: list[int] = list(settings.job_retry_intervals)  # type: ignore[arg-type]
        retry = Retry(max=settings.job_retries, interval=intervals) if settings.job_retries > 0 else None
        timeout = math.ceil(timeout_ms / 1000) if timeout_ms else settings.job_timeout
        options: dict[str, Any] = {
            "args": (n, algorithm.value, settings.fib_cache_ttl),
            # No user text in the description: rq-dashboard renders it (stored XSS, rq-dashboard #526).
            "description": f"fib({n}, {algorithm.value})",
            "job_timeout": timeout, "result_ttl": settings.job_result_ttl,
            "failure_ttl": settings.job_failure_ttl, "retry": retry, "job_id": job_id, "meta": meta}
        if delay_ms > 0:
            job = self.rq.enqueue_in(timedelta(milliseconds=delay_ms), fibonacci, **options)
        else:
            job = self.rq.enqueue(fibonacci, **options)
        log.info("rq enqueue %s fib(%s, %s) delay_ms=%s timeout=%ss", job.id, n, algorithm.value, delay_ms, timeout)
        return job

    def fetch(self, job_id: str) -> Job | None:
        """Return a job, or None when it does not exist (or has expired)."""
        try:
            return Job.fetch(job_id, connection=self.redis, serializer=JSONSerializer)
        except NoSuchJobError:
            return None

    def position(self, job: Job) -> int | None:
        """Return a queued job's place in the queue (0: next)."""
        return self.rq.get_job_position(job.id)

    def cancel(self, job: Job) -> str:
        """Stop a running job, cancel a waiting one, delete an ended one; return what was done.

        Raises rq's InvalidJobOperation when a running job cannot be stopped.
        """
        status = job.get_status()
        if status == JobStatus.STARTED:
            send_stop_job_command(self.redis, job.id, serializer=JSONSerializer)
            action = "stopped"
        elif status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
            job.cancel()
            action = "canceled"
        else:
            job.delete()
            action = "deleted"
        log.info("rq %s job %s (was %s)", action, job.id, status)
        return action

    def figures(self) -> dict[str, Any]:
        """Return the queue's figures: waiting, running, finished, failed, deferred, scheduled, workers."""
        q = self.rq
        return {
            "name": q.name, "kind": "rq", "length": q.count,
            "started": StartedJobRegistry(queue=q).count,
            "finished": FinishedJobRegistry(queue=q).count,
            "failed": FailedJobRegistry(queue=q).count,
            "deferred": DeferredJobRegistry(queue=q).count,
            "scheduled": ScheduledJobRegistry(queue=q).count,  # type: ignore[no-untyped-call]
            "workers": Worker.count(connection=self.redis, queue=self.rq),
        }

    def recent(self, per_state: int) -> list[dict[str, Any]]:
        """Return the latest jobs: waiting, running, finished and failed, newest first."""
        q = self.rq
        ids = [*q.get_job_ids(0, per_state), *StartedJobRegistry(queue=q).get_job_ids(0, per_state - 1),
               *FinishedJobRegistry(queue=q).get_job_ids(0, per_state - 1, desc=True),
               *FailedJobRegistry(queue=q).get_job_ids(0, per_state - 1, desc=True)]
        out = []
        for job in Job.fetch_many(ids, connection=self.redis, serializer=JSONSerializer):
            if job is None:
                continue
            status = job.get_status(refresh=False)
            result = job.return_value() if status == JobStatus.FINISHED else None
            out.append({"id": job.id, "description": job.description, "status": status,
                        "ended_at": job.ended_at.isoformat() if job.ended_at else None, **summarise(result)})
        return out
