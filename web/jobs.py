"""Fibonacci as background jobs on RQ: enqueue, poll, fetch the result, cancel."""

from __future__ import annotations

import logging
import re
from typing import Any, cast

from flask import Blueprint, Response, jsonify, request, url_for
from rq.exceptions import InvalidJobOperation
from rq.job import Job, JobStatus

from shared.core import keys
from shared.jobs.fibonacci import N_MAX, Algorithm
from shared.jobs.queue import summarise
from shared.messages import idempotency
from shared.messages.schedule import TIMEOUT_MS_MAX
from web.access import Access, Limit, policy
from web.errors import refuse
from web.responses import reply
from web.services import services
from web.validation import idempotency_key, json_object, json_whole, whole_number

bp = Blueprint("jobs", __name__)
log = logging.getLogger(__name__)

#: Seconds two requests with one key are kept from enqueueing the job twice (the enqueue takes milliseconds).
JOB_LOCK_SECONDS = 10
_JOB_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f-]{36}")



def checked_job(n: object, algorithm: object) -> tuple[int, Algorithm]:
    """Return n and the algorithm when they are within the limits, or refuse them (400)."""
    settings = services().settings
    if not isinstance(algorithm, str) or algorithm not in {a.value for a in Algorithm}:
        refuse(400, "bad_algorithm", 'algorithm must be "naive" or "fast"', pt='o algoritmo deve ser "naive" ou "fast"')
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        refuse(400, "bad_number", "n must be a whole number >= 0", pt="n deve ser um número inteiro >= 0")
    chosen = Algorithm(algorithm)
    limit = settings.fib_job_naive_max if chosen is Algorithm.NAIVE else settings.fib_fast_max
    if n > limit:
        hint = chosen is Algorithm.NAIVE and n <= settings.fib_fast_max
        shown = n if n <= N_MAX else f"{str(n)[:12]}..."
        refuse(400, "too_large", f"n={shown} is above the {chosen.value} limit of {limit}"
                                 + (' (use "algorithm": "fast")' if hint else ": choose a smaller n"),
               pt=f"n={shown} passa do limite de {limit} do algoritmo {chosen.value}"
                  + (" (use ?algorithm=fast)" if hint else ": escolha um n menor"))
    return n, chosen


def submit(n: int, algorithm: Algorithm, delay_ms: int = 0, timeout_ms: int | None = None,
           key: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Answer from the cache, or enqueue a job (delayed, with its own timeout, under an Idempotency-Key);
    return (status, payload, headers)."""
    cached = cast(str | None, services().redis.get(keys.fib(n)))
    log.info("redis GET %s -> %s", keys.fib(n), "hit" if cached is not None else "miss")
    if cached is not None:
        return 200, {"n": n, "source": "cache", **summarise(cached),
                     "result_url": url_for("jobs.cached_result", n=n)}, {}
    if key is None:
        job = services().jobs.enqueue(n, algorithm, delay_ms, timeout_ms)
        replayed = False
    else:
        job, replayed = enqueue_once(key, n, algorithm, delay_ms, timeout_ms)
    location = url_for("jobs.job_status", job_id=job.id)
    headers = {"Location": location, **({"Idempotent-Replayed": "true"} if replayed else {})}
    return 200 if replayed else 202, {"id": job.id, "n": n, "algorithm": algorithm.value,
                                      "status": job.get_status(refresh=False), "status_url": location}, headers


def enqueue_once(key: str, n: int, algorithm: Algorithm, delay_ms: int, timeout_ms: int | None) -> tuple[Job, bool]:
    """Enqueue a job under an Idempotency-Key: its id comes from the key, so the job itself is the record.

    The same key again finds the job (while RQ keeps it: JOB_RESULT_TTL once finished) and answers
    with it when the request is the same (its digest is in the job's meta), 422 when not. A short
    lock keeps two requests with one key, sent at once, from enqueueing it twice (409 for the second).
    """
    digest = idempotency.request_digest(request.method, request.path, request.query_string, request.mimetype,
                                        request.get_data(cache=True))
    job_id = idempotency.key_digest(key)[:32]
    earlier = services().jobs.fetch(job_id)
    if earlier is None:
        lock = keys.idempotency(services().settings.job_queue_name, job_id)
        if not services().redis.set(lock, digest, nx=True, ex=JOB_LOCK_SECONDS):
            refuse(409, "idempotency_in_progress", "a request with this Idempotency-Key is being enqueued: "
                                                   "retry in a moment", retry_after=1)
        try:
            return services().jobs.enqueue(n, algorithm, delay_ms, timeout_ms, job_id=job_id,
                                           meta={"request_digest": digest}), False
        finally:
            services().redis.delete(lock)
    if earlier.meta.get("request_digest") != digest:
        refuse(422, "idempotency_key_reused", "this Idempotency-Key was used for another job request: use a new key")
    return earlier, True


@bp.post("/api/jobs/fib")
@policy(Access.PRODUCER, Limit.API)
def create() -> Response:
    """Enqueue F(n) from `{"n": <int>, "algorithm": "naive" | "fast"}` (cached: 200 at once).

    ---
    tags: [jobs]
    parameters:
    - {$ref: '#/components/parameters/IdempotencyKey'}
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [n]
            properties:
              n: {type: integer, minimum: 0, maximum: 1000000}
              algorithm:
                type: string
                enum: [fast, naive]
                default: fast
              delay_ms:
                type: integer
                minimum: 0
                maximum: 2592000000
                description: Run it no sooner than this (RQ's `enqueue_in`; the job is `scheduled` until then,
                  and rq-dashboard lists it). At most DELAY_MAX_MS.
              timeout_ms:
                type: integer
                minimum: 1
                maximum: 86400000
                description: The longest it may run (RQ's `job_timeout`, in whole seconds, rounded up);
                  JOB_TIMEOUT otherwise.
    responses:
      '200':
        description: From the cache; or, sent again with its Idempotency-Key, the job enqueued the first time.
        content:
          application/json:
            schema:
              oneOf:
              - {$ref: '#/components/schemas/CachedFibonacci'}
              - {$ref: '#/components/schemas/JobAccepted'}
      '202':
        description: Enqueued; follow Location.
        headers:
          Location:
            required: true
            schema: {type: string}
        content:
          application/json:
            schema: {$ref: '#/components/schemas/JobAccepted'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '409': {$ref: '#/components/responses/BadRequest'}
      '422': {$ref: '#/components/responses/BadRequest'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    data = json_object('send a JSON object {"n": <int>, "algorithm": "naive" | "fast"}')
    n, algorithm = checked_job(data.get("n"), data.get("algorithm", Algorithm.FAST.value))
    settings = services().settings
    delay_ms = json_whole(data["delay_ms"], "delay_ms", 0, settings.delay_max_ms,
                          code="bad_schedule") if "delay_ms" in data else 0
    timeout_ms = json_whole(data["timeout_ms"], "timeout_ms", 1, TIMEOUT_MS_MAX,
                            code="bad_schedule") if "timeout_ms" in data else None
    status, payload, headers = submit(n, algorithm, delay_ms, timeout_ms, idempotency_key())
    response = jsonify(payload)
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.get("/fib-job/<n>")
@policy(Access.OPEN, Limit.WRITES)
def create_text(n: str) -> Response:
    """The handout-style route: enqueue F(n) (`?algorithm=naive`), or answer from the cache.

    ---
    tags: [handout, jobs]
    parameters:
    - {$ref: '#/components/parameters/NumberText'}
    - name: algorithm
      in: query
      explode: false
      schema:
        type: string
        enum: [fast, naive]
        default: fast
    responses:
      '200':
        description: '"[CACHE] Fibonacci(n) = ..."'
        content:
          text/plain:
            schema: {type: string}
          application/json:
            schema: {$ref: '#/components/schemas/CachedFibonacci'}
      '202':
        description: '"[JOB] Fibonacci(n) enfileirado no RQ: job <id>" and how to follow it.'
        headers:
          Location:
            required: true
            schema: {type: string}
        content:
          text/plain:
            schema: {type: string}
          application/json:
            schema: {$ref: '#/components/schemas/JobAccepted'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    number, algorithm = checked_job(whole_number(n, "n", 0, N_MAX, code="bad_number"),
                                    request.args.get("algorithm", Algorithm.FAST.value))
    status, payload, headers = submit(number, algorithm)
    if status == 200:
        message = f"[CACHE] Fibonacci({number}) = {payload['result']} (Redis (cache))"
    else:
        message = (f"[JOB] Fibonacci({number}) enfileirado no RQ: job {payload['id']}\n"
                   f"Acompanhe: curl {request.host_url.rstrip('/')}{payload['status_url']}")
    response = reply(message, payload, status)
    response.headers.update(headers)
    return response


def existing_job(job_id: str) -> Job:
    """Return the job, or refuse (404) a malformed or unknown id."""
    job = services().jobs.fetch(job_id) if _JOB_ID.fullmatch(job_id) else None
    if job is None:
        refuse(404, "unknown_job", f"unknown job id {job_id!r} (or it has expired)")
    return job


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


@bp.get("/api/jobs/<job_id>")
@policy(Access.PRODUCER)
def job_status(job_id: str) -> Response:
    """Return status, result (summarised), times, worker, error and position in the queue.

    ---
    tags: [jobs]
    parameters:
    - {$ref: '#/components/parameters/JobId'}
    responses:
      '200':
        description: The job.
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Job'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    job = existing_job(job_id)
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
        payload["position"] = services().jobs.position(job)
    return jsonify(payload)


@bp.get("/api/jobs/<job_id>/result")
@policy(Access.PRODUCER)
def job_result(job_id: str) -> Response:
    """Return a finished job's whole result as text.

    ---
    tags: [jobs]
    parameters:
    - {$ref: '#/components/parameters/JobId'}
    responses:
      '200':
        description: The digits.
        content:
          text/plain:
            schema: {type: string, pattern: '^[0-9]+$'}
      '404': {$ref: '#/components/responses/NotFound'}
      '409': {$ref: '#/components/responses/Conflict'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    job = existing_job(job_id)
    status = job.get_status()
    if status != JobStatus.FINISHED:
        refuse(409, "not_finished", f"job is {status}, not finished")
    return Response(job.return_value(), mimetype="text/plain")


@bp.get("/api/fib/<n>")
@policy(Access.PRODUCER)
def cached_result(n: str) -> Response:
    """Return the cached F(n) whole, as text.

    ---
    tags: [jobs]
    parameters:
    - name: n
      in: path
      required: true
      schema: {type: integer, minimum: 0, maximum: 999999999}
    responses:
      '200':
        description: The digits.
        content:
          text/plain:
            schema: {type: string}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    number = whole_number(n, "n", 0, N_MAX, code="bad_number")
    cached = services().redis.get(keys.fib(number))
    if cached is None:
        refuse(404, "not_cached", f"Fibonacci({number}) is not in the cache")
    return Response(cached, mimetype="text/plain")


@bp.delete("/api/jobs/<job_id>")
@policy(Access.ADMIN)
def cancel(job_id: str) -> Response:
    """Cancel a queued job, stop a running one, or delete a finished one.

    ---
    tags: [jobs]
    parameters:
    - {$ref: '#/components/parameters/JobId'}
    responses:
      '200':
        description: What was done.
        content:
          application/json:
            schema:
              type: object
              required: [id, was, action]
              properties:
                id: {type: string}
                was: {type: string}
                action:
                  type: string
                  enum: [canceled, stopped, deleted]
      '404': {$ref: '#/components/responses/NotFound'}
      '409': {$ref: '#/components/responses/Conflict'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    job = existing_job(job_id)
    status = job.get_status()
    try:
        action = services().jobs.cancel(job)
    except InvalidJobOperation as exc:
        refuse(409, "cannot_stop", str(exc))
    return jsonify({"id": job.id, "was": status, "action": action})
