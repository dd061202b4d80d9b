"""The message API: produce (LPUSH, one Lua call per request) and look a message up."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, jsonify, request

from shared.core.codec import DEPTH_MAX, VALUES_MAX, dumps, loads
from shared.messages.handlers import explain
from web.access import Access, Limit, policy
from web.errors import refuse
from web.i18n import language
from web.services import services
from web.validation import message_id as valid_id

bp = Blueprint("messages", __name__, url_prefix="/api")
log = logging.getLogger(__name__)


NEWLINE = b"\n"
#: A text/plain line that holds something besides blanks (found in C: a body of blank lines costs no Python loop).
_LINE = re.compile(rb"[^\n]*[^ \t\r\f\v\n][^\n]*")


def parse_bodies(raw: bytes, mimetype: str, batch_max: int, max_bytes: int) -> list[str]:
    """Turn a request body into JSON-encoded message bodies, or refuse it (400, 413, 415).

    Nothing is built for more than `batch_max` messages: a body of a million lines is refused
    after reading `batch_max` + 1 of them, and a JSON document's values are counted before it is
    parsed (shared.core.codec.VALUES_MAX).
    """
    if not raw.strip():
        refuse(400, "empty_body", "the request body is empty")
    bodies: list[str] = []
    if mimetype == "text/plain":
        for match in _LINE.finditer(raw):
            if len(bodies) == batch_max:
                refuse(413, "batch_too_large", f"a batch holds at most {batch_max} messages: split the lines")
            try:
                bodies.append(dumps(match[0].removesuffix(b"\r").decode("utf-8")))
            except UnicodeDecodeError:
                line = raw.count(NEWLINE, 0, match.start()) + 1
                refuse(400, "bad_encoding", f"text/plain bodies must be UTF-8 (line {line} is not)")
    elif mimetype == "application/json" or mimetype.endswith("+json"):
        try:
            data = loads(raw, DEPTH_MAX, values_max=VALUES_MAX)
        except ValueError as exc:
            refuse(400, "bad_json", f"invalid JSON: {str(exc)[:200]}")
        items = data if isinstance(data, list) else [data]
        if len(items) > batch_max:
            refuse(413, "batch_too_large", f"a batch holds at most {batch_max} messages, got {len(items)}")
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
    for index, body in enumerate(bodies):
        if len(body) > max_bytes and len(body.encode("utf-8")) > max_bytes:
            refuse(413, "message_too_large", f"message {index} is larger than {max_bytes} bytes")
    return bodies


@bp.post("/messages")
@policy(Access.PRODUCER, Limit.API)
def produce() -> Response:
    """Enqueue one message, a JSON batch, or text/plain lines; answer 202 with the ids.

    ---
    tags: [messages]
    requestBody:
      required: true
      content:
        application/json:
          schema:
            oneOf:
            - {$ref: '#/components/schemas/NewMessage'}
            - type: array
              minItems: 1
              description: At most BATCH_MAX (10,000) messages; more is a 413.
              items: {$ref: '#/components/schemas/NewMessage'}
        text/plain:
          schema: {type: string, description: One message per non-empty line.}
    responses:
      '202':
        description: Accepted; the ids in order.
        content:
          application/json:
            schema:
              type: object
              required: [queue, count, ids, status_url]
              properties:
                queue: {type: string}
                count: {type: integer, minimum: 1}
                ids:
                  type: array
                  items: {$ref: '#/components/schemas/MessageId'}
                status_url: {type: string}
      '400': {$ref: '#/components/responses/BadRequest'}
      '413': {$ref: '#/components/responses/TooLarge'}
      '415': {$ref: '#/components/responses/Unsupported'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
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
@policy(Access.PRODUCER)
def status(message_id: str) -> Response:
    """Return a message's status, result, worker, attempts and timings.

    ---
    tags: [messages]
    parameters:
    - name: message_id
      in: path
      required: true
      schema: {type: string}
    responses:
      '200':
        description: Where the message is.
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Message'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    info = services().monitor.message(valid_id(message_id))
    if info is None:
        refuse(404, "unknown_message", "unknown message id (or its result has expired)", id=message_id)
    return jsonify({**info, "summary": explain(info["result"], language())})
