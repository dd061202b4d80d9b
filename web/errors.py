"""The one way a view fails: raise a Refusal (or let Werkzeug or Redis raise); it is rendered here.

JSON where the client wants JSON, plain text on the handout's routes; Redis down is a 503,
a key of another type (WRONGTYPE, from a command, a pipeline or a Lua script) a 409 naming
the key's actual type, and never a traceback.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import redis
from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException

from shared.connection import UNAVAILABLE
from web.responses import text, wants_json

log = logging.getLogger(__name__)


class Refusal(HTTPException):
    """Why fila will not do what a request asks: a status, a stable code, the reason, extra fields."""

    def __init__(self, status: int, error: str, message: str, *, text: str | None = None, **extra: Any):
        """`text` is the plain-text body on text routes (the handout's words); it defaults to the reason."""
        super().__init__(description=message)
        self.code = status
        self.error = error
        self.text = text
        self.extra = extra


def refuse(status: int, error: str, message: str, *, text: str | None = None, **extra: Any) -> NoReturn:
    """Raise a Refusal."""
    raise Refusal(status, error, message, text=text, **extra)


def render(status: int, error: str, message: str, body_text: str | None = None, **extra: Any) -> Response:
    """Render a failure as JSON `{"error": reason, ...}` or as a line of text."""
    if wants_json():
        response = jsonify({"error": message, **extra})
        response.status_code = status
        return response
    return text(body_text if body_text is not None else f"Erro: {message}", status)


def _refusal(exc: Refusal) -> Response:
    return render(exc.code or 400, exc.error, exc.description or "", exc.text, **exc.extra)


def _http_error(exc: HTTPException) -> Response:
    """Render Werkzeug's own errors (404, 405, 413...) the same way."""
    code = (exc.name or "error").lower().replace(" ", "_")
    response = render(exc.code or 500, code, exc.description or exc.name)
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


def _redis_unavailable(exc: Exception) -> Response:
    """Answer 503 when Redis cannot be reached; the next request tries again."""
    log.warning("redis unavailable: %s", exc)
    response = render(503, "redis_unavailable", "Redis is unavailable, try again shortly (Redis indisponível)")
    response.headers["Retry-After"] = "1"
    return response


def _key_type(name: str) -> str:
    from web.services import services

    try:
        return str(services().redis.type(name))
    except redis.exceptions.RedisError:
        return "another type"


def _redis_error(exc: redis.exceptions.ResponseError) -> Response:
    """Answer 409 for WRONGTYPE (however it came back), 500 for anything else Redis refused."""
    if "WRONGTYPE" in str(exc):
        declared = g.get("user_key")
        if declared is None:
            return render(409, "wrong_type", "that key holds a value of another type (WRONGTYPE)")
        name, wanted = declared
        actual = _key_type(name)
        return render(409, "wrong_type", f"'{name}' holds a {actual}, not a {wanted} (WRONGTYPE): use another name",
                      key=name, type=actual)
    log.error("redis error: %s", exc)
    return render(500, "redis_error", "Redis refused the command")


def register(app: Flask) -> None:
    """Attach the handlers to the app."""
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, _redis_unavailable)
    app.register_error_handler(redis.exceptions.ResponseError, _redis_error)
    app.register_error_handler(Refusal, _refusal)
    app.register_error_handler(HTTPException, _http_error)
