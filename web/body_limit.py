"""Bodies over REQUEST_MAX_BYTES get 413 however they are framed, and nothing of them is stored.

Werkzeug refuses a Content-Length over the limit, but a chunked body (no Content-Length) is only
read up to the limit and then silently cut: a 17 MB CSV loaded its first 16 MB. This middleware
reads such a body itself, one byte past the limit at most: a body that fits is handed on with
its Content-Length, as if it had been sent so; one that does not is marked, and the app refuses
it (413) before any view runs, as it refuses a Content-Length over the limit on every route.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from werkzeug.exceptions import RequestEntityTooLarge

#: The WSGI environ key the middleware sets on a body over the limit.
TOO_LARGE = "fila.body_too_large"
_READ = 1 << 16


class BodyLimit:
    """WSGI middleware: buffer a body sent without Content-Length, up to `limit` bytes."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Give the app a body with a Content-Length, or mark it too large."""
        if not environ.get("CONTENT_LENGTH") and _has_body(environ):
            body = _read_at_most(environ["wsgi.input"], self.limit + 1)
            if len(body) > self.limit:
                environ[TOO_LARGE] = True
                body = b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("wsgi.input_terminated", None)
            environ.pop("HTTP_TRANSFER_ENCODING", None)  # werkzeug ignores Content-Length beside it
        answer: Iterable[bytes] = self.app(environ, start_response)
        return answer


def _has_body(environ: dict[str, Any]) -> bool:
    """Tell whether the request may carry a body without saying how long it is (chunked, or until the end)."""
    return bool(environ.get("wsgi.input_terminated")) or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_at_most(stream: Any, most: int) -> bytes:
    chunks, size = [], 0
    while size < most:
        chunk = stream.read(min(_READ, most - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def refuse_too_large() -> None:
    """Refuse (413) a body over the limit before any view runs, whether the view would read it or not."""
    from flask import current_app, request

    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.environ.get(TOO_LARGE) or (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()
