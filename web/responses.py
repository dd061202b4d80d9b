"""Answer in plain text for curl and browsers, or JSON when the client asks for it."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request


def wants_json() -> bool:
    """Tell whether the client prefers JSON (API paths always do)."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/plain", "text/html", "application/json"])
    return best == "application/json"


def text(body: str, status: int = 200, mimetype: str = "text/plain") -> Response:
    """Return a text response that browsers will not sniff into HTML."""
    response = Response(body, status=status, mimetype=mimetype)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def reply(message: str, data: dict[str, Any], status: int = 200) -> Response:
    """Return `data` as JSON or `message` as text, as the client prefers."""
    if wants_json():
        response = jsonify(data)
        response.status_code = status
        return response
    return text(message, status)
