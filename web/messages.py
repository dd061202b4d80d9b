"""The message API: produce (LPUSH, one Lua call per request) and look a message up."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from shared.core.codec import DEPTH_MAX, VALUES_MAX, dumps, loads
from shared.core.settings import Settings
from shared.messages import idempotency
from shared.messages.handlers import explain
from shared.messages.queue import MessageQueue
from shared.messages.schedule import TIMEOUT_MS_MAX, Options
from web.access import Access, Limit, origin, policy
from web.errors import refuse
from web.i18n import language
from web.services import services
from web.validation import idempotency_key, instant, json_whole, whole_number
from web.validation import message_id as valid_id

bp = Blueprint("messages", __name__, url_prefix="/api")
log = logging.getLogger(__name__)


NEWLINE = b"\n"
#: A text/plain line that holds something besides blanks (found in C: a body of blank lines costs no Python loop).
_LINE = re.compile(rb"[^\n]*[^ \t\r\f\v\n][^\n]*")


#: What a message may say about when and how often it runs (shared/messages/schedule.py).
SCHEDULE_FIELDS = ("delay_ms", "not_before", "ttl_ms", "max_attempts", "retry_base_ms", "timeout_ms", "priority")
#: What `priority` may say (`normal` is the same as none).
PRIORITIES = ("high", "normal", "low")
#: Bounds of the options that have no setting of their own.
TTL_MS_MAX = 30 * 86400 * 1000
ATTEMPTS_MAX = 100
RETRY_BASE_MS_MAX = 3_600_000


def read_options(given: dict[str, Any], batch: dict[str, Any], now: float, settings: Settings) -> Options | None:
    """Return a message's Options from its own fields, over the batch's (query string); None when it has none."""
    fields = {**batch, **{name: given[name] for name in SCHEDULE_FIELDS if name in given}}
    if not fields:
        return None
    if "delay_ms" in fields and "not_before" in fields:
        refuse(400, "bad_schedule", "give delay_ms or not_before, not both")
    due_ms = None
    if "delay_ms" in fields:
        due_ms = int(now * 1000) + json_whole(fields["delay_ms"], "delay_ms", 0, settings.delay_max_ms,
                                              code="bad_schedule")
    elif "not_before" in fields:
        due_ms = int(instant(fields["not_before"], "not_before", code="bad_schedule") * 1000)
        if due_ms - now * 1000 > settings.delay_max_ms:
            refuse(400, "bad_schedule", f"not_before is more than DELAY_MAX_MS ({settings.delay_max_ms} ms) ahead")

    def bounded(name: str, low: int, high: int) -> int | None:
        return json_whole(fields[name], name, low, high, code="bad_schedule") if name in fields else None

    priority = fields.get("priority")
    if priority is not None and priority not in PRIORITIES:
        refuse(400, "bad_priority", "priority is one of high, normal, low")
    return Options(due_ms=due_ms, ttl_ms=bounded("ttl_ms", 1, TTL_MS_MAX),
                   priority=None if priority in (None, "normal") else priority,
                   max_attempts=bounded("max_attempts", 1, ATTEMPTS_MAX),
                   retry_base_ms=bounded("retry_base_ms", 0, RETRY_BASE_MS_MAX),
                   timeout_ms=bounded("timeout_ms", 1, TIMEOUT_MS_MAX))


def batch_options() -> dict[str, Any]:
    """Return the options the query string gives every message of the request (`?delay_ms=`, `?not_before=`...)."""
    found: dict[str, Any] = {}
    for name in SCHEDULE_FIELDS:
        raw = request.args.get(name)
        if raw is not None:
            found[name] = raw if name in ("not_before", "priority") else whole_number(raw, name, 0, 2**53,
                                                                                       code="bad_schedule")
    return found


def parse_bodies(raw: bytes, mimetype: str, batch_max: int, max_bytes: int,
                 settings: Settings | None = None) -> tuple[list[str], list[Options] | None, str | None]:
    """Turn a request body into JSON-encoded message bodies, their options and the queue they name (or refuse it).

    Refusals are 400, 413 and 415; the queue is what the messages' `"queue"` says (one for the
    whole request), or None.

    Nothing is built for more than `batch_max` messages: a body of a million lines is refused
    after reading `batch_max` + 1 of them, and a JSON document's values are counted before it is
    parsed (shared.core.codec.VALUES_MAX). The options are None when no message has any (the hot
    path stays as it was).
    """
    if not raw.strip():
        refuse(400, "empty_body", "the request body is empty")
    bodies: list[str] = []
    now = time.time()
    batch = batch_options() if settings is not None and request.args else {}
    options: list[Options | None] = []
    named: str | None = None
    if mimetype == "text/plain":
        for match in _LINE.finditer(raw):
            if len(bodies) == batch_max:
                refuse(413, "batch_too_large", f"a batch holds at most {batch_max} messages: split the lines")
            try:
                bodies.append(dumps(match[0].removesuffix(b"\r").decode("utf-8")))
                if batch and settings is not None:
                    options.append(read_options({}, batch, now, settings))
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
            if "queue" in item:
                named = item_queue(item["queue"], named, index)
            if settings is not None and (batch or any(name in item for name in SCHEDULE_FIELDS)):
                options.append(read_options(item, batch, now, settings))
            else:
                options.append(None)
    else:
        refuse(415, "unsupported_media_type",
               "send application/json ({\"body\": ...} or a list of them) or text/plain lines")
    if not bodies:
        refuse(400, "no_messages", "no messages in the request")
    for index, body in enumerate(bodies):
        if len(body) > max_bytes and len(body.encode("utf-8")) > max_bytes:
            refuse(413, "message_too_large", f"message {index} is larger than {max_bytes} bytes")
    if not any(options):
        return bodies, None, named
    return bodies, [given or Options() for given in options], named


def item_queue(given: object, named: str | None, index: int) -> str:
    """Return the queue a message names, refusing another type or a second queue in the same request (400)."""
    if not isinstance(given, str) or not given or len(given) > 64:
        refuse(400, "bad_queue", f"message {index}: queue is a queue's name (a string)")
    if named is not None and given != named:
        refuse(400, "mixed_queues", "every message of a request goes to the same queue: send one request a queue")
    return given


@bp.post("/messages")
@policy(Access.PRODUCER, Limit.API)
def produce() -> Response:
    """Enqueue one message, a JSON batch, or text/plain lines (on the default queue, or the one named); answer 202.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/IdempotencyKey'}
    - {$ref: '#/components/parameters/Queue'}
    requestBody: {$ref: '#/components/requestBodies/NewMessages'}
    responses:
      '202': {$ref: '#/components/responses/Accepted'}
      '200': {$ref: '#/components/responses/Replayed'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '413': {$ref: '#/components/responses/TooLarge'}
      '415': {$ref: '#/components/responses/Unsupported'}
      '422': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    return accept(None)


@bp.post("/queues/<name>/messages")
@policy(Access.PRODUCER, Limit.API)
def produce_to(name: str) -> Response:
    """Enqueue on a named queue (QUEUES): one message, a JSON batch, or text/plain lines; answer 202 with the ids.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/QueueName'}
    - {$ref: '#/components/parameters/IdempotencyKey'}
    requestBody: {$ref: '#/components/requestBodies/NewMessages'}
    responses:
      '202': {$ref: '#/components/responses/Accepted'}
      '200': {$ref: '#/components/responses/Replayed'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '413': {$ref: '#/components/responses/TooLarge'}
      '415': {$ref: '#/components/responses/Unsupported'}
      '422': {$ref: '#/components/responses/BadRequest'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    return accept(name)


def accept(path_queue: str | None) -> Response:
    """Enqueue the request's messages on the queue the path, the messages or `?queue=` name (the default else)."""
    settings = services().settings
    key = idempotency_key()
    raw = request.get_data(cache=False)
    bodies, options, named = parse_bodies(raw, request.mimetype, settings.batch_max, settings.message_max_bytes,
                                          settings)
    asked = request.args.get("queue")
    for other in (named, asked):
        if path_queue is not None and other is not None and other != path_queue:
            refuse(400, "mixed_queues", f"the path names queue {path_queue!r}, the request {other[:64]!r}")
    if named is not None and asked is not None and named != asked:
        refuse(400, "mixed_queues", "the messages and ?queue= name different queues")
    queue = services().queue(path_queue or named or asked)
    replayed = False
    if key is None:
        ids = queue.messages.enqueue(bodies, options, origin())
    else:
        ids, replayed = enqueue_once(queue.messages, key, raw, bodies, options)
    # DEBUG, not INFO: on this hot route a line per request cost 10% of the throughput (make bench);
    # the workers log every message.
    log.debug("redis LPUSH %s: %s message(s)", queue.messages.name, len(ids))
    base = f"{request.script_root}{bp.url_prefix}/messages/"
    location = base + (ids[0] if len(ids) == 1 else "<id>")
    payload = {"queue": queue.messages.name, "count": len(ids), "ids": ids, "status_url": location}
    response = Response(dumps(payload), status=200 if replayed else 202, mimetype="application/json")
    if len(ids) == 1:
        response.headers["Location"] = location
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def enqueue_once(messages: MessageQueue, key: str, raw: bytes, bodies: list[str],
                 options: list[Options] | None) -> tuple[list[str], bool]:
    """Enqueue under an Idempotency-Key; return the ids (the first request's, sent again) and whether it is a replay."""
    if len(bodies) > idempotency.ONCE_MAX:
        refuse(413, "batch_too_large", f"a request with an Idempotency-Key holds at most {idempotency.ONCE_MAX} "
                                       "messages (it is enqueued in one step): split the batch, a key each")
    digest = idempotency.request_digest(request.method, request.path, request.query_string, request.mimetype, raw)
    ids, earlier = messages.enqueue_once(bodies, options, idempotency.key_digest(key), digest, origin())
    if earlier is not None and earlier.digest != digest:
        refuse(422, "idempotency_key_reused", "this Idempotency-Key was used for another request (another body, "
                                              "type or query) within IDEMPOTENCY_TTL: use a new key")
    return ids, earlier is not None


@bp.get("/messages/<message_id>")
@policy(Access.PRODUCER)
def status(message_id: str) -> Response:
    """Return a message's status, result, worker, attempts and timings.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/MessageId'}
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
    info = services().find(valid_id(message_id))
    if info is None:
        refuse(404, "unknown_message", "unknown message id (or its result has expired)", id=message_id)
    return jsonify({**info, "summary": explain(info["result"], language())})
