"""Watch the queues and the workers: figures of the message queue and the RQ queue, live workers."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from web.services import services

bp = Blueprint("queues", __name__, url_prefix="/api")


@bp.get("/queues")
def queues() -> Response:
    """Return each queue's length, in flight, done, dead and rate over the last minute."""
    return jsonify({"queues": [services().monitor.figures(), services().jobs.figures()]})


@bp.get("/workers")
def workers() -> Response:
    """Return the live message workers."""
    return jsonify({"workers": services().monitor.workers()})
