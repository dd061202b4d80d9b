"""The one way a view fails: raise a Refusal (or let Werkzeug or Redis raise); it is rendered here.

JSON `{"error": <code>, "message": <what was wrong and what to do>, ...}` where the client wants
JSON; on the handout's text routes the handout's own words, or `Erro: ` and the reason in
Portuguese. Redis down is a 503, Redis full a 507, a key of another type (WRONGTYPE, from a command, a pipeline
or a Lua script) a 409 naming the key's actual type, and never a traceback.
Every code is listed in CODES, which /openapi.json publishes.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import redis
from flask import Flask, Response, current_app, g, jsonify
from werkzeug.exceptions import HTTPException

from shared.core.connection import FULL, UNAVAILABLE
from web.responses import text, wants_json

log = logging.getLogger(__name__)

#: Every error code fila answers with, and what it means for the client.
CODES: dict[str, str] = {
    "bad_name": "The key or list name is empty, too long (KEY_MAX_LEN) or holds characters other than "
                "letters, digits and _ . : -.",
    "reserved_name": "The name belongs to fila (fila:*, hits, the queue list), to RQ (rq:*) or to the "
                     "Fibonacci cache (fib:*): choose another.",
    "bad_value": "The value is empty, too long (VALUE_MAX_LEN) or holds control characters.",
    "bad_number": "n is not a whole number within the limits.",
    "too_large": "n is above the limit of this route or algorithm; the message says which route takes it.",
    "bad_algorithm": 'algorithm is neither "naive" nor "fast".',
    "bad_ttl": "ttl is not a positive whole number of seconds.",
    "bad_schedule": "delay_ms, not_before, ttl_ms, max_attempts, retry_base_ms or timeout_ms is out of its range, "
                    "or both delay_ms and not_before were given; or a periodic schedule's name, every, cron or body "
                    "is not one fila can keep.",
    "bad_idempotency_key": "The Idempotency-Key header is not 1-255 visible ASCII characters.",
    "idempotency_key_reused": "The Idempotency-Key was used for another request within IDEMPOTENCY_TTL.",
    "idempotency_in_progress": "Another request with this Idempotency-Key is being enqueued: retry in a moment.",
    "too_many_schedules": "The queue holds the most periodic schedules it may (1,000): remove one first.",
    "unknown_schedule": "No periodic schedule has this name.",
    "not_scheduled": "The message is not scheduled (it is queued, running, settled or unknown): only a "
                     "scheduled message can be cancelled.",
    "bad_body": "The request body is not the JSON object the operation documents.",
    "empty_body": "The request has no body.",
    "bad_json": "The body is not valid JSON.",
    "bad_encoding": "The body is not UTF-8.",
    "bad_message": 'An item of the batch is not an object {"body": ...}.',
    "no_messages": "The request holds no message.",
    "batch_too_large": "More messages than BATCH_MAX in one request: split the batch.",
    "message_too_large": "A message body is larger than MESSAGE_MAX_BYTES.",
    "unsupported_media_type": "The Content-Type is not one this operation reads.",
    "bad_id": "The id is not a message id (a ULID, 26 characters).",
    "bad_ids": "ids is not a non-empty list of message ids.",
    "bad_limit": "limit is not a whole number within the documented range.",
    "key_not_found": "The key does not exist (or has expired).",
    "list_empty": "The list is empty or does not exist.",
    "unknown_message": "No message has this id, or its result has expired (RESULT_TTL).",
    "unknown_job": "No job has this id, or it has expired.",
    "unknown_queue": "No message queue has this name (QUEUES declares them).",
    "unknown_group": "No dead letter is filed under this group (it was emptied, or never was).",
    "bad_group": "A dead-letter group is 16 hex digits, as GET /api/dead/groups gives it.",
    "mixed_queues": "The messages of a request, its path and its `?queue=` name different queues.",
    "bad_queue": "A message's `queue` is not a queue's name (a string).",
    "bad_priority": "`priority` is not one of high, normal, low.",
    "not_cached": "F(n) is not in the cache: enqueue it with POST /api/jobs/fib.",
    "not_finished": "The job has not finished: poll its status first.",
    "cannot_stop": "The running job could not be stopped.",
    "wrong_type": "The key holds a value of another Redis type (WRONGTYPE); the message names both.",
    "not_found": "No route has this path: see /api/docs.",
    "method_not_allowed": "The route does not take this method; the Allow header lists those it takes.",
    "payload_too_large": "The request body is larger than REQUEST_MAX_BYTES.",
    "bad_request": "The request is malformed.",
    "rate_limited": "Too many requests from this client: wait the Retry-After seconds.",
    "unauthorized": "This needs an operator's session (/login) or an API token (Authorization: Bearer).",
    "cross_site": "A browser page of another site may not change fila.",
    "csrf_failed": "The form or request lacks its CSRF token (reload the page).",
    "unknown_token": "No live API token has this id.",
    "busy": "This process is computing another request of the kind: retry after Retry-After seconds.",
    "redis_unavailable": "Redis cannot be reached right now: retry after Retry-After seconds.",
    "redis_full": "Redis is full (its maxmemory is reached): nothing new can be stored until memory is freed; "
                  "reads still work. Retry after Retry-After seconds.",
    "redis_error": "Redis refused the command.",
    "internal_error": "Something fila did not expect went wrong; the server log has the details.",
    "lab_error": "A route of the lab (lab/app.py) raised an error: the log (and, under make dev, the answer) names "
                 "its file, line and error.",
    "lab_nothing": "A route of the lab returned None: there was nothing to answer (a key that does not exist?).",
}

_TYPES_PT = {"string": "um texto (string)", "list": "uma lista", "hash": "um hash", "set": "um conjunto (set)",
             "zset": "um conjunto ordenado (zset)", "stream": "um stream"}


class Refusal(HTTPException):
    """Why fila will not do what a request asks: a status, a code of CODES, the reason, extra fields."""

    def __init__(self, status: int, error: str, message: str, *, pt: str | None = None, text: str | None = None,
                 **extra: Any):
        """`pt`: the reason in Portuguese, for text routes; `text`: the whole text body (the handout's own words)."""
        if error not in CODES:
            raise ValueError(f"{error!r} is not an error code of web.errors.CODES")
        super().__init__(description=message)
        self.code = status
        self.error = error
        self.text = text if text is not None else f"Erro: {pt or message}"
        self.extra = extra


def refuse(status: int, error: str, message: str, *, pt: str | None = None, text: str | None = None,
           **extra: Any) -> NoReturn:
    """Raise a Refusal."""
    raise Refusal(status, error, message, pt=pt, text=text, **extra)


def render(exc: Refusal) -> Response:
    """Render a refusal as JSON or as its line of text (a `retry_after` extra becomes the Retry-After header)."""
    status = exc.code or 400
    if wants_json():
        response = jsonify({"error": exc.error, "message": exc.description, **exc.extra})
        response.status_code = status
    else:
        response = text(exc.text, status)
    if "retry_after" in exc.extra:
        g.retry_after = str(exc.extra["retry_after"])  # web.headers keeps it over the rate limiter's
        response.headers["Retry-After"] = g.retry_after
    return response


def _http_error(exc: HTTPException) -> Response:
    """Render Werkzeug's own errors (404, 405, 413...) the same way."""
    status = exc.code or 500
    if status == 405 and getattr(exc, "valid_methods", None):
        allowed = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        refusal = Refusal(405, "method_not_allowed", f"this route takes {allowed}",
                          pt=f"esta rota aceita {allowed}")
    elif status == 404:
        refusal = Refusal(404, "not_found", "no such route: the routes are listed at /api/docs",
                          pt="rota não encontrada: as rotas estão em /api/docs")
        broken = current_app.extensions.get("fila_lab_problem")  # development only (web/lab.py)
        if broken:
            refusal = Refusal(404, "not_found", f"no such route; lab/app.py did not load: {broken}",
                              pt=f"rota não encontrada; o lab/app.py não carregou: {broken}", lab=broken)
    elif status == 429:
        refusal = Refusal(429, "rate_limited", f"too many requests ({exc.description}): wait Retry-After seconds",
                          pt=f"requisições demais ({exc.description}): espere Retry-After segundos")
    elif status == 413:
        refusal = Refusal(413, "payload_too_large", "the request body is too large (REQUEST_MAX_BYTES)",
                          pt="o corpo da requisição é grande demais (REQUEST_MAX_BYTES)")
    elif status < 500:
        refusal = Refusal(status, "bad_request", exc.description or exc.name)
    else:
        refusal = Refusal(status, "internal_error", exc.description or exc.name)
    response = render(refusal)
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


def _redis_unavailable(exc: Exception) -> Response:
    """Answer 503 when Redis cannot be reached; the next request tries again."""
    log.warning("redis unavailable: %s", exc)
    return render(Refusal(503, "redis_unavailable", "Redis is unavailable, try again shortly",
                          pt="o Redis está indisponível; tente de novo em instantes", retry_after=1))


#: Seconds a client should wait before writing to a full Redis again.
FULL_RETRY_AFTER = 5


def _redis_full(exc: Exception) -> Response:
    """Answer 507 when Redis is full: it refused a write (OOM); reads go on, and nothing was stored."""
    log.warning("redis full: %s", exc)
    return render(Refusal(507, "redis_full", "Redis is full (maxmemory reached): nothing was stored; reads still "
                                             "work, writes will again once memory is freed",
                          pt="o Redis está cheio (maxmemory): nada foi gravado; as leituras continuam, as escritas "
                             "voltam quando houver memória livre", retry_after=FULL_RETRY_AFTER))


def _key_type(name: str) -> str:
    from web.services import services

    try:
        return str(services().redis.type(name))
    except redis.exceptions.RedisError:
        return "value of another type"


def _redis_error(exc: redis.exceptions.ResponseError) -> Response:
    """Answer 409 for WRONGTYPE (however it came back), 500 for anything else Redis refused."""
    if "WRONGTYPE" in str(exc):
        declared = g.get("user_key")
        if declared is None:
            return render(Refusal(409, "wrong_type", "that key holds a value of another type (WRONGTYPE)",
                                  pt="essa chave guarda um valor de outro tipo (WRONGTYPE)"))
        name, wanted = declared
        actual = _key_type(name)
        return render(Refusal(
            409, "wrong_type", f"'{name}' holds a {actual}, not a {wanted} (WRONGTYPE): use another name",
            pt=f"a chave '{name}' guarda {_TYPES_PT.get(actual, actual)}, não {_TYPES_PT.get(wanted, wanted)} "
               "(WRONGTYPE): use outro nome", key=name, type=actual))
    log.error("redis error: %s", exc)
    return render(Refusal(500, "redis_error", "Redis refused the command", pt="o Redis recusou o comando"))


def _csrf_error(exc: HTTPException) -> Response:
    """Refuse a session-authenticated change without its CSRF token."""
    return render(Refusal(400, "csrf_failed", f"{exc.description}: reload the page and try again",
                          pt="o formulário perdeu o token CSRF: recarregue a página e tente de novo"))


def register(app: Flask) -> None:
    """Attach the handlers to the app."""
    from flask_wtf.csrf import CSRFError

    app.register_error_handler(CSRFError, _csrf_error)
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, _redis_unavailable)
    app.register_error_handler(FULL, _redis_full)
    app.register_error_handler(redis.exceptions.ResponseError, _redis_error)
    app.register_error_handler(Refusal, render)
    app.register_error_handler(HTTPException, _http_error)
