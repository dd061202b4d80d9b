"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from web.access import Access, policy
from web.services import services

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@policy(Access.OPEN)
def alive() -> Response:
    """Say the process is up (no Redis call)."""
    return jsonify({"status": "ok"})


@bp.route("/readyz")
@policy(Access.OPEN)
def ready() -> Response:
    """Say whether Redis answers PING (503 from the error handler when it does not)."""
    services().redis.ping()
    return jsonify({"status": "ready", "redis": "ok"})
