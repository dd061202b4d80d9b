"""Dead letters: list them (paged), look one up, requeue some or all, delete one, purge them.

Every action is bounded: per Redis call (shared.messages.dead_letters.DEAD_CHUNK) and per request (STEP_MAX).
"All" means the letters dead when the first request was made (`until`); each answer says how
many are `remaining`, and the client sends `until` back until none are: a million dead letters
take a hundred short requests, each of many short Redis calls, and an interrupted run can
simply be sent again (nothing is moved twice, nothing is lost).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, jsonify

from shared.core.ids import is_valid
from shared.messages.dead_letters import STEP_MAX
from web.access import Access, actor, policy
from web.errors import refuse
from web.services import asked_queue
from web.validation import json_object, page_cursor, query_number
from web.validation import message_id as valid_id

bp = Blueprint("dead_letters", __name__, url_prefix="/api")
log = logging.getLogger(__name__)

#: Most dead letters listed, or named for requeueing, in one request.
PAGE_MAX = 1000
#: The latest `until` a request may carry (seconds; the year 2286).
UNTIL_MAX = 10**10


@bp.get("/dead")
@policy(Access.ADMIN)
def listing() -> Response:
    """Return dead letters, newest first: `?limit=` (1-1000, default 100), `?after=` (the previous page's next).

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    - {$ref: '#/components/parameters/PageLimit'}
    - {$ref: '#/components/parameters/PageAfter'}
    responses:
      '200':
        description: The dead letters with their last error and a preview of the body.
        content:
          application/json:
            schema:
              type: object
              required: [queue, dead, next]
              properties:
                queue: {type: string}
                dead:
                  type: array
                  items: {$ref: '#/components/schemas/DeadLetter'}
                next:
                  type: [string, 'null']
                  description: The `after` of the next page; null on the last.
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    limit = query_number("limit", 1, PAGE_MAX, 100)
    dead = asked_queue().dead_letters.page(limit, page_cursor())
    return jsonify({"queue": asked_queue().messages.name, "dead": dead,
                    "next": dead[-1]["cursor"] if len(dead) == limit else None})


@bp.get("/dead/<message_id>")
@policy(Access.ADMIN)
def one(message_id: str) -> Response:
    """Return one dead letter, its whole body included.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    - {$ref: '#/components/parameters/MessageId'}
    responses:
      '200':
        description: The dead letter.
        content:
          application/json:
            schema: {$ref: '#/components/schemas/DeadLetter'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    letter = asked_queue().dead_letters.one(valid_id(message_id))
    if letter is None:
        refuse(404, "unknown_message", f"no dead letter has the id {message_id}", id=message_id)
    return jsonify(letter)


@bp.delete("/dead/<message_id>")
@policy(Access.ADMIN)
def delete(message_id: str) -> Response:
    """Delete one dead letter for good.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    - {$ref: '#/components/parameters/MessageId'}
    responses:
      '200':
        description: Deleted.
        content:
          application/json:
            schema:
              type: object
              required: [deleted]
              properties:
                deleted: {const: 1}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    if not asked_queue().dead_letters.delete(valid_id(message_id), actor()):
        refuse(404, "unknown_message", f"no dead letter has the id {message_id}", id=message_id)
    log.info("deleted dead letter %s of %s", message_id, asked_queue().messages.name)
    return jsonify({"deleted": 1})


def until_ms(data: dict[str, Any]) -> int:
    """Return the `until` (ms) of an "all" request: the one the client sends back, or now."""
    if "until" not in data:
        return int(time.time() * 1000)
    until = data["until"]
    if isinstance(until, bool) or not isinstance(until, int | float) or not 0 <= until <= UNTIL_MAX or until != until:
        refuse(400, "bad_body", "until must be the time (seconds) a previous answer gave")
    return int(until * 1000)


def step(action: str, count: int, until: int) -> Response:
    """Answer a step of an "all" action: how many it did, how many are left, and the `until` to send back."""
    left = asked_queue().dead_letters.count(until)
    log.info("%s %s dead letter(s) of %s; %s remaining", action, count, asked_queue().messages.name, left)
    return jsonify({action: count, "remaining": left, "until": until / 1000})


@bp.post("/dead/requeue")
@policy(Access.ADMIN)
def requeue() -> Response:
    """Put dead letters back on the queue: `{"ids": [...]}` (at most 1000), or `{"all": true}` a step at a time.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    description: '`{"all": true}` requeues up to 10,000 of the letters dead at the time of the first request and

      answers how many are `remaining`; send `{"all": true, "until": <the until it answered>}` again

      until none are. Letters that die meanwhile stay dead.

      '
    requestBody:
      required: true
      content:
        application/json:
          schema:
            oneOf:
            - type: object
              required: [all]
              properties:
                all: {const: true}
                until: {type: number, minimum: 0, maximum: 10000000000}
              not:
                required: [ids]
            - type: object
              required: [ids]
              properties:
                ids:
                  type: array
                  minItems: 1
                  maxItems: 1000
                  items: {$ref: '#/components/schemas/MessageId'}
              not:
                required: [all]
    responses:
      '200':
        description: How many went back (ids no longer dead are skipped); for all, how many remain.
        content:
          application/json:
            schema:
              type: object
              required: [requeued]
              properties:
                requeued: {type: integer, minimum: 0}
                remaining: {type: integer, minimum: 0}
                until: {type: number}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    usage = 'send either {"all": true} or {"ids": ["<id>", ...]}'
    data = json_object(usage)
    if ("all" in data) == ("ids" in data) or ("all" in data and data["all"] is not True) or (
            "ids" in data and not isinstance(data["ids"], list)):
        refuse(400, "bad_body", usage)
    if data.get("all") is True:
        until = until_ms(data)
        return step("requeued", asked_queue().dead_letters.requeue_all(until, STEP_MAX, actor()), until)
    ids = data["ids"]
    if not ids or len(ids) > PAGE_MAX or not all(isinstance(i, str) and is_valid(i) for i in ids):
        refuse(400, "bad_ids", f"ids must be a list of 1 to {PAGE_MAX} message ids")
    count = asked_queue().dead_letters.requeue(ids, actor())
    log.info("requeued %s dead letter(s) on %s", count, asked_queue().messages.name)
    return jsonify({"requeued": count})


@bp.post("/dead/purge")
@policy(Access.ADMIN)
def purge() -> Response:
    """Delete dead letters for good, a step at a time; `{"confirm": true}` is required.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    description: Like requeueing all; send `until` back until none are `remaining`.
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [confirm]
            properties:
              confirm: {const: true}
              until: {type: number, minimum: 0, maximum: 10000000000}
    responses:
      '200':
        description: How many were deleted, how many remain.
        content:
          application/json:
            schema:
              type: object
              required: [purged, remaining, until]
              properties:
                purged: {type: integer, minimum: 0}
                remaining: {type: integer, minimum: 0}
                until: {type: number}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    usage = 'purging deletes dead letters for good: send {"confirm": true}'
    data = json_object(usage)
    if data.get("confirm") is not True:
        refuse(400, "bad_body", usage)
    until = until_ms(data)
    return step("purged", asked_queue().dead_letters.purge(until, STEP_MAX, actor()), until)
