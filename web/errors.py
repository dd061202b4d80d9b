"""Error handlers: Redis down is a 503, every HTTP error a clear message, never a traceback."""

from __future__ import annotations

import logging

import redis
from flask import Flask
from werkzeug.exceptions import HTTPException

from shared.connection import UNAVAILABLE
from web.responses import error

log = logging.getLogger(__name__)


def redis_unavailable(exc: Exception):
    """Answer 503 when Redis cannot be reached; the next request tries again."""
    log.warning("redis unavailable: %s", exc)
    response = error(503, "Redis is unavailable, try again shortly (Redis indisponível)")
    response.headers["Retry-After"] = "1"
    return response


def redis_error(exc: redis.exceptions.ResponseError):
    """Answer 409 when a key holds another type (WRONGTYPE), 500 otherwise."""
    if str(exc).startswith("WRONGTYPE"):
        return error(409, "that key holds a value of another type (WRONGTYPE)")
    log.error("redis error: %s", exc)
    return error(500, "Redis refused the command")


def http_error(exc: HTTPException):
    """Render Werkzeug's HTTP errors (404, 405, 413...) as JSON or text."""
    response = error(exc.code or 500, exc.description or exc.name)
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def register(app: Flask) -> None:
    """Attach the handlers to the app."""
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, redis_unavailable)
    app.register_error_handler(redis.exceptions.ResponseError, redis_error)
    app.register_error_handler(HTTPException, http_error)
