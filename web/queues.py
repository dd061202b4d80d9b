"""Watch and steer the queues: figures of the message queue and the RQ queue, workers, history, pause and resume."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from web.errors import refuse
from web.services import services

bp = Blueprint("queues", __name__, url_prefix="/api")
log = logging.getLogger(__name__)

#: The most history one request returns: a day of minutes (what is kept).
HISTORY_MAX = 1440


@bp.get("/queues")
def queues() -> Response:
    """Return each queue's length, in flight, done, dead, rate, oldest message's age and pause state."""
    return jsonify({"queues": [services().monitor.figures(), services().jobs.figures()]})


@bp.get("/workers")
def workers() -> Response:
    """Return the registered message workers: alive, or lost until a reaper takes what they held."""
    return jsonify({"workers": services().monitor.workers()})


@bp.get("/history")
def history() -> Response:
    """Return done, failed and dead per minute (`?minutes=`, 1-1440, default 60), oldest first."""
    minutes = request.args.get("minutes", "60")
    if not minutes.isascii() or not minutes.isdigit() or not 0 < int(minutes) <= HISTORY_MAX:
        refuse(400, "bad_limit", f"minutes must be a whole number from 1 to {HISTORY_MAX}")
    return jsonify({"queue": services().settings.queue_name, "history": services().monitor.history(int(minutes))})


def this_queue(name: str) -> None:
    """Refuse (404) a queue other than fila's message queue."""
    if name != services().settings.queue_name:
        refuse(404, "unknown_queue", f"no message queue is named {name!r}: this fila's is "
                                     f"{services().settings.queue_name!r}", queue=name)


@bp.post("/queues/<name>/pause")
def pause(name: str) -> Response:
    """Pause the queue: workers finish what they hold and take nothing more; enqueueing goes on."""
    this_queue(name)
    services().messages.pause()
    log.warning("queue %s paused", name)
    return jsonify({"queue": name, "paused": True})


@bp.post("/queues/<name>/resume")
def resume(name: str) -> Response:
    """Let workers take from the queue again."""
    this_queue(name)
    services().messages.resume()
    log.warning("queue %s resumed", name)
    return jsonify({"queue": name, "paused": False})
