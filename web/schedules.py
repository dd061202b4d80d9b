"""Periodic schedules: list them, add (or replace) one, remove one (the CLI's `fila schedule`, over HTTP)."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, jsonify

from shared.core.codec import dumps
from shared.messages.periodic import NAME, BadSchedule, Schedule, parse_every
from web.access import Access, policy
from web.errors import refuse
from web.services import asked_queue, services
from web.validation import json_object

bp = Blueprint("schedules", __name__, url_prefix="/api")
log = logging.getLogger(__name__)


@bp.get("/schedules")
@policy(Access.ADMIN)
def listing() -> Response:
    """Return the queue's periodic schedules, the soonest to fire first.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    responses:
      '200':
        description: The schedules (at most 1,000 a queue), each with its next tick and the messages it sent.
        content:
          application/json:
            schema:
              type: object
              required: [queue, schedules]
              properties:
                queue: {type: string}
                schedules:
                  type: array
                  items: {$ref: '#/components/schemas/Schedule'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    return jsonify({"queue": asked_queue().messages.name, "schedules": asked_queue().schedules.listing()})


@bp.post("/schedules")
@policy(Access.ADMIN)
def add() -> Response:
    """Add a schedule, or replace the one of that name: `{"name", "every": "30s" | "cron": "*/5 * * * *", "body"}`.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [name, body]
            properties:
              name: {type: string, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'}
              every: {type: [string, "null"], description: 'An interval: 30s, 5m, 1h, 2d, 1500ms (1s to 366d). Not
                with cron (null: not given).'}
              cron: {type: [string, "null"], description: "A cron line of five fields, in UTC ('*/5 * * * *'). Not
                with every (null: not given)."}
              body: {description: The message each tick sends (any JSON).}
    responses:
      '201': {description: Added.}
      '200': {description: Replaced (its next tick computed again).}
      '400': {$ref: '#/components/responses/BadRequest'}
      '409': {$ref: '#/components/responses/BadRequest'}
      '413': {$ref: '#/components/responses/TooLarge'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    data = json_object('send {"name": ..., "every": "30s" or "cron": "*/5 * * * *", "body": ...}')
    name, every, cron = data.get("name"), data.get("every"), data.get("cron")
    settings = services().settings
    if not isinstance(name, str) or not NAME.fullmatch(name):
        refuse(400, "bad_schedule", "name is 1-64 letters, digits, '_', '.' or '-'")
    if "body" not in data:
        refuse(400, "bad_schedule", "body is the message each tick sends (any JSON)")
    if (every is None) == (cron is None) or not isinstance(every or cron, str):
        refuse(400, "bad_schedule", 'give "every" (such as "30s") or "cron" (such as "*/5 * * * *"), one of the two')
    body = dumps(data["body"])
    if len(body.encode()) > settings.message_max_bytes:
        refuse(413, "message_too_large", f"the body is larger than {settings.message_max_bytes} bytes")
    try:
        schedule = Schedule(name, body, every_ms=parse_every(every) if isinstance(every, str) else None,
                            cron=cron if isinstance(cron, str) else None, created_ms=int(time.time() * 1000))
    except BadSchedule as exc:
        refuse(400, "bad_schedule", str(exc))
    try:
        created = asked_queue().schedules.add(schedule)
    except BadSchedule as exc:
        refuse(409, "too_many_schedules", str(exc))
    log.warning("schedule %s %s", name, "added" if created else "replaced")
    response = jsonify({"name": name, "created": created,
                        "next_at": schedule.following(int(time.time() * 1000)) / 1000})
    response.status_code = 201 if created else 200
    return response


@bp.delete("/schedules/<name>")
@policy(Access.ADMIN)
def remove(name: str) -> Response:
    """Remove a schedule: no more ticks.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    - name: name
      in: path
      required: true
      schema: {type: string}
    responses:
      '204': {description: Removed.}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    if len(name) > 64 or not asked_queue().schedules.remove(name):
        refuse(404, "unknown_schedule", "no schedule has this name", name=name[:64])
    log.warning("schedule %s removed", name)
    return Response(status=204)
