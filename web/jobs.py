"""Fibonacci as background jobs on RQ: enqueue, poll, fetch the result, cancel."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, jsonify, request, url_for
from rq import Queue, Retry
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
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
from werkzeug.exceptions import NotFound

from shared import keys
from shared.fibonacci import Algorithm
from shared.jobs import fibonacci
from web.context import Fila, fila
from web.responses import error, reply

bp = Blueprint("jobs", __name__)
log = logging.getLogger(__name__)

_JOB_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f-]{36}")
#: Results longer than this are summarised in the status and served whole at the result URL.
SUMMARY_DIGITS = 80


def rq_queue(state: Fila) -> Queue:
    """Return the RQ queue for Fibonacci jobs (JSON serializer: pickle would let Redis writers run code)."""
    return Queue(state.settings.rq_queue, connection=state.rq_redis, serializer=JSONSerializer)


def queue() -> Queue:
    """Return the current app's RQ queue."""
    return rq_queue(fila())


def summarise(result: str | None) -> dict:
    """Describe a decimal result: whole when short, head...tail and digit count when long."""
    if result is None:
        return {"result": None}
    if len(result) <= SUMMARY_DIGITS:
        return {"result": result, "digits": len(result)}
    return {"result": f"{result[:30]}...{result[-30:]}", "digits": len(result), "truncated": True}


class BadJob(Exception):
    """The job request is invalid; carries the reason."""


def validate(n: object, algorithm: object) -> tuple[int, Algorithm]:
    """Check n and algorithm against the limits, or raise BadJob saying why."""
    settings = fila().settings
    if not isinstance(algorithm, str) or algorithm not in {a.value for a in Algorithm}:
        raise BadJob('algorithm must be "naive" or "fast"')
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise BadJob("n must be a whole number >= 0")
    chosen = Algorithm(algorithm)
    limit = settings.fib_job_naive_max if chosen is Algorithm.NAIVE else settings.fib_fast_max
    if n > limit:
        hint = ' (use "algorithm": "fast")' if chosen is Algorithm.NAIVE and n <= settings.fib_fast_max else ""
        raise BadJob(f"n={n} is above the {chosen.value} limit of {limit}{hint}")
    return n, chosen


def submit(n: int, algorithm: Algorithm) -> tuple[int, dict, dict[str, str]]:
    """Answer from the cache, or enqueue a job; return (status, payload, headers)."""
    settings = fila().settings
    cached = fila().redis.get(keys.fib(n))
    log.info("redis GET %s -> %s", keys.fib(n), "hit" if cached is not None else "miss")
    if cached is not None:
        return 200, {"n": n, "source": "cache", **summarise(cached),
                     "result_url": url_for("jobs.cached_result", n=n)}, {}
    retry = Retry(max=settings.job_retries, interval=list(settings.job_retry_intervals)) \
        if settings.job_retries > 0 else None
    job = queue().enqueue(
        fibonacci, args=(n, algorithm.value, settings.fib_cache_ttl),
        # No user text in the description: rq-dashboard renders it (stored XSS, rq-dashboard #526).
        description=f"fib({n}, {algorithm.value})",
        job_timeout=settings.job_timeout, result_ttl=settings.job_result_ttl,
        failure_ttl=settings.job_failure_ttl, retry=retry)
    log.info("rq enqueue %s fib(%s, %s)", job.id, n, algorithm.value)
    location = url_for("jobs.job_status", job_id=job.id)
    return 202, {"id": job.id, "n": n, "algorithm": algorithm.value, "status": job.get_status(refresh=False),
                 "status_url": location}, {"Location": location}


@bp.post("/api/jobs/fib")
def create():
    """Enqueue F(n) from `{"n": <int>, "algorithm": "naive" | "fast"}` (cached: 200 at once)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error(400, 'send a JSON object {"n": <int>, "algorithm": "naive" | "fast"}')
    try:
        n, algorithm = validate(data.get("n"), data.get("algorithm", Algorithm.FAST.value))
    except BadJob as exc:
        return error(400, str(exc))
    status, payload, headers = submit(n, algorithm)
    response = jsonify(payload)
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.get("/fib-job/<raw>")
def create_text(raw: str):
    """The handout-style route: enqueue F(n) (`?algorithm=naive`), or answer from the cache."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return error(400, f"n must be a whole number, got {raw!r}")
    try:
        n, algorithm = validate(int(raw), request.args.get("algorithm", Algorithm.FAST.value))
    except BadJob as exc:
        return error(400, str(exc))
    status, payload, headers = submit(n, algorithm)
    if status == 200:
        message = f"[CACHE] Fibonacci({n}) = {payload['result']} (Redis (cache))"
    else:
        message = (f"[JOB] Fibonacci({n}) enfileirado no RQ: job {payload['id']}\n"
                   f"Acompanhe: curl {request.host_url.rstrip('/')}{payload['status_url']}")
    response = reply(message, payload, status)
    response.headers.update(headers)
    return response


def fetch(job_id: str) -> Job:
    """Return the job; a malformed or unknown id is a 404."""
    if _JOB_ID.fullmatch(job_id):
        try:
            return Job.fetch(job_id, connection=fila().rq_redis, serializer=JSONSerializer)
        except NoSuchJobError:
            pass
    raise NotFound(f"unknown job id {job_id!r} (or it has expired)")


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


@bp.get("/api/jobs/<job_id>")
def job_status(job_id: str):
    """Return status, result (summarised), times, worker, error and position in the queue."""
    job = fetch(job_id)
    status = job.get_status()
    result = job.return_value() if status == JobStatus.FINISHED else None
    latest = job.latest_result()
    payload = {
        "id": job.id, "status": status, "description": job.description, "args": job.args,
        **summarise(result),
        "enqueued_at": _iso(job.enqueued_at), "started_at": _iso(job.started_at), "ended_at": _iso(job.ended_at),
        "worker": job.worker_name, "error": None, "position": None,
        "result_url": url_for("jobs.job_result", job_id=job.id) if result is not None else None,
    }
    if status == JobStatus.FAILED and latest is not None and latest.exc_string:
        payload["error"] = latest.exc_string.strip().splitlines()[-1]
    if status == JobStatus.QUEUED:
        payload["position"] = queue().get_job_position(job.id)
    return jsonify(payload)


@bp.get("/api/jobs/<job_id>/result")
def job_result(job_id: str):
    """Return a finished job's whole result as text."""
    job = fetch(job_id)
    if job.get_status() != JobStatus.FINISHED:
        return error(409, f"job is {job.get_status()}, not finished")
    return Response(job.return_value(), mimetype="text/plain")


@bp.get("/api/fib/<int:n>")
def cached_result(n: int):
    """Return the cached F(n) whole, as text."""
    cached = fila().redis.get(keys.fib(n))
    if cached is None:
        return error(404, f"Fibonacci({n}) is not in the cache")
    return Response(cached, mimetype="text/plain")


@bp.delete("/api/jobs/<job_id>")
def cancel(job_id: str):
    """Cancel a queued job, stop a running one, or delete a finished one."""
    job = fetch(job_id)
    status = job.get_status()
    connection = fila().rq_redis
    if status == JobStatus.STARTED:
        try:
            send_stop_job_command(connection, job.id, serializer=JSONSerializer)
        except InvalidJobOperation as exc:
            return error(409, str(exc))
        action = "stopped"
    elif status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
        job.cancel()
        action = "canceled"
    else:
        job.delete()
        action = "deleted"
    log.info("rq %s job %s (was %s)", action, job.id, status)
    return jsonify({"id": job.id, "was": status, "action": action})


def rq_figures(state: Fila) -> dict:
    """Return the Fibonacci RQ queue's figures: waiting, running, finished, failed, workers."""
    q = rq_queue(state)
    options = {"queue": q}
    return {
        "name": q.name, "kind": "rq", "length": q.count,
        "started": StartedJobRegistry(**options).count,
        "finished": FinishedJobRegistry(**options).count,
        "failed": FailedJobRegistry(**options).count,
        "deferred": DeferredJobRegistry(**options).count,
        "scheduled": ScheduledJobRegistry(**options).count,
        "workers": Worker.count(connection=state.rq_redis, queue=q),
    }
