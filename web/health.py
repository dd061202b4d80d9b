"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from web.access import Access, policy
from web.services import services

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@policy(Access.OPEN)
def alive() -> Response:
    """Say the process is up (no Redis call).

    ---
    tags: [watch]
    responses:
      '200':
        description: Up.
        content:
          application/json:
            schema:
              type: object
              required: [status]
              properties:
                status: {const: ok}
    """
    return jsonify({"status": "ok"})


@bp.route("/readyz")
@policy(Access.OPEN)
def ready() -> Response:
    """Say whether Redis answers (503 from the error handler when it does not), and whether it is full.

    A full Redis still serves every read, so the web stays ready (a load balancer keeps sending it
    requests); the answer says `"redis": "full"` and writes answer 507 until memory is freed.

    ---
    tags: [watch]
    responses:
      '200':
        description: Ready.
        content:
          application/json:
            schema:
              type: object
              required: [status, redis, memory]
              properties:
                status: {const: ready}
                redis:
                  enum: [ok, full]
                  description: 'full: Redis reached its maxmemory; reads work, writes answer 507.'
                memory: {$ref: '#/components/schemas/RedisMemory'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    memory = services().monitor.memory()
    return jsonify({"status": "ready", "redis": "full" if memory["full"] else "ok", "memory": memory})
