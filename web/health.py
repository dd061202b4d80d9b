"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify

from web.context import fila

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def alive():
    """Say the process is up (no Redis call)."""
    return jsonify({"status": "ok"})


@bp.route("/readyz")
def ready():
    """Say whether Redis answers PING (503 from the error handler when it does not)."""
    fila().redis.ping()
    return jsonify({"status": "ready", "redis": "ok"})
