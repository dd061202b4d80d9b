"""The message API: produce (LPUSH), look a message up, watch queues and workers, handle dead letters."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from shared.codec import dumps, loads
from shared.ids import is_valid
from web.context import fila
from web.jobs import rq_figures
from web.responses import error

bp = Blueprint("messages", __name__, url_prefix="/api")
log = logging.getLogger(__name__)


class BadMessages(Exception):
    """The request cannot be enqueued; carries the HTTP status and the reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_bodies(raw: bytes, mimetype: str, batch_max: int, max_bytes: int) -> list[str]:
    """Turn a request body into JSON-encoded message bodies, or raise BadMessages."""
    if not raw.strip():
        raise BadMessages(400, "the request body is empty")
    if mimetype == "text/plain":
        try:
            lines = raw.decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise BadMessages(400, "text/plain bodies must be UTF-8") from None
        bodies = [dumps(line) for line in lines if line.strip()]
    elif mimetype == "application/json" or mimetype.endswith("+json"):
        try:
            data = loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadMessages(400, f"invalid JSON: {exc}") from None
        items = data if isinstance(data, list) else [data]
        if len(items) > batch_max:
            raise BadMessages(413, f"a batch holds at most {batch_max} messages, got {len(items)}")
        bodies = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or "body" not in item:
                where = f" (item {index})" if isinstance(data, list) else ""
                raise BadMessages(400, f'each message is an object {{"body": <any JSON>}}{where}')
            bodies.append(dumps(item["body"]))
    else:
        raise BadMessages(415, "send application/json ({\"body\": ...} or a list of them) or text/plain lines")
    if not bodies:
        raise BadMessages(400, "no messages in the request")
    if len(bodies) > batch_max:
        raise BadMessages(413, f"a batch holds at most {batch_max} messages, got {len(bodies)}")
    for index, body in enumerate(bodies):
        if len(body) > max_bytes and len(body.encode("utf-8")) > max_bytes:
            raise BadMessages(413, f"message {index} is larger than {max_bytes} bytes")
    return bodies


@bp.post("/messages")
def produce():
    """Enqueue one message, a JSON batch, or text/plain lines; answer 202 with the ids."""
    settings = fila().settings
    try:
        bodies = parse_bodies(request.get_data(cache=False), request.mimetype, settings.batch_max,
                              settings.message_max_bytes)
    except BadMessages as exc:
        return error(exc.status, exc.reason)
    ids = fila().queue.enqueue(bodies)
    # DEBUG, not INFO: on this hot route a line per request cost 10% of the throughput (make bench);
    # the workers log every message.
    log.debug("redis LPUSH %s: %s message(s)", settings.queue, len(ids))
    base = f"{request.script_root}{bp.url_prefix}/messages/"
    location = base + (ids[0] if len(ids) == 1 else "<id>")
    payload = {"queue": settings.queue, "count": len(ids), "ids": ids, "status_url": location}
    response = Response(dumps(payload), status=202, mimetype="application/json")
    if len(ids) == 1:
        response.headers["Location"] = location
    return response


@bp.get("/messages/<message_id>")
def status(message_id: str):
    """Return a message's status, result, worker, attempts and timings."""
    if not is_valid(message_id):
        return error(400, "not a message id")
    info = fila().monitor.message(message_id)
    if info is None:
        return error(404, "unknown message id (or its result has expired)", id=message_id)
    return jsonify(info)


@bp.get("/queues")
def queues():
    """Return each queue's length, in flight, done, dead and rate over the last minute."""
    return jsonify({"queues": [fila().monitor.queue(), rq_figures(fila())]})


@bp.get("/workers")
def workers():
    """Return the live message workers."""
    return jsonify({"workers": fila().monitor.workers()})


@bp.get("/dead")
def dead():
    """Return dead letters, newest first (`?limit=`, default 100)."""
    limit = request.args.get("limit", "100")
    if not limit.isdigit() or not 0 < int(limit) <= 10000:
        return error(400, "limit must be a whole number from 1 to 10000")
    return jsonify({"queue": fila().settings.queue, "dead": fila().monitor.dead(int(limit))})


@bp.post("/dead/requeue")
def requeue_dead():
    """Put dead letters back on the queue: `{"all": true}` or `{"ids": [...]}`."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not (data.get("all") is True or isinstance(data.get("ids"), list)):
        return error(400, 'send {"all": true} or {"ids": ["<id>", ...]}')
    ids = [] if data.get("all") is True else data["ids"]
    if not all(isinstance(i, str) and is_valid(i) for i in ids) or (data.get("all") is not True and not ids):
        return error(400, "ids must be a non-empty list of message ids")
    count = fila().queue.requeue_dead(ids)
    log.info("requeued %s dead letter(s) on %s", count, fila().settings.queue)
    return jsonify({"requeued": count})
