"""The message API: produce (LPUSH, one Lua call per request) and look a message up."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from shared.codec import dumps, loads
from shared.ids import is_valid
from web.errors import refuse
from web.services import services

bp = Blueprint("messages", __name__, url_prefix="/api")
log = logging.getLogger(__name__)


def parse_bodies(raw: bytes, mimetype: str, batch_max: int, max_bytes: int) -> list[str]:
    """Turn a request body into JSON-encoded message bodies, or refuse it (400, 413, 415)."""
    if not raw.strip():
        refuse(400, "empty_body", "the request body is empty")
    if mimetype == "text/plain":
        try:
            lines = raw.decode("utf-8").splitlines()
        except UnicodeDecodeError:
            refuse(400, "bad_encoding", "text/plain bodies must be UTF-8")
        bodies = [dumps(line) for line in lines if line.strip()]
    elif mimetype == "application/json" or mimetype.endswith("+json"):
        try:
            data = loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            refuse(400, "bad_json", f"invalid JSON: {exc}")
        items = data if isinstance(data, list) else [data]
        if len(items) > batch_max:
            refuse(413, "batch_too_large", f"a batch holds at most {batch_max} messages, got {len(items)}")
        bodies = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or "body" not in item:
                where = f" (item {index})" if isinstance(data, list) else ""
                refuse(400, "bad_message", f'each message is an object {{"body": <any JSON>}}{where}')
            bodies.append(dumps(item["body"]))
    else:
        refuse(415, "unsupported_media_type",
               "send application/json ({\"body\": ...} or a list of them) or text/plain lines")
    if not bodies:
        refuse(400, "no_messages", "no messages in the request")
    if len(bodies) > batch_max:
        refuse(413, "batch_too_large", f"a batch holds at most {batch_max} messages, got {len(bodies)}")
    for index, body in enumerate(bodies):
        if len(body) > max_bytes and len(body.encode("utf-8")) > max_bytes:
            refuse(413, "message_too_large", f"message {index} is larger than {max_bytes} bytes")
    return bodies


@bp.post("/messages")
def produce() -> Response:
    """Enqueue one message, a JSON batch, or text/plain lines; answer 202 with the ids."""
    settings = services().settings
    bodies = parse_bodies(request.get_data(cache=False), request.mimetype, settings.batch_max,
                          settings.message_max_bytes)
    ids = services().messages.enqueue(bodies)
    # DEBUG, not INFO: on this hot route a line per request cost 10% of the throughput (make bench);
    # the workers log every message.
    log.debug("redis LPUSH %s: %s message(s)", settings.queue_name, len(ids))
    base = f"{request.script_root}{bp.url_prefix}/messages/"
    location = base + (ids[0] if len(ids) == 1 else "<id>")
    payload = {"queue": settings.queue_name, "count": len(ids), "ids": ids, "status_url": location}
    response = Response(dumps(payload), status=202, mimetype="application/json")
    if len(ids) == 1:
        response.headers["Location"] = location
    return response


@bp.get("/messages/<message_id>")
def status(message_id: str) -> Response:
    """Return a message's status, result, worker, attempts and timings."""
    if not is_valid(message_id):
        refuse(400, "bad_id", "not a message id")
    info = services().monitor.message(message_id)
    if info is None:
        refuse(404, "unknown_message", "unknown message id (or its result has expired)", id=message_id)
    return jsonify(info)
