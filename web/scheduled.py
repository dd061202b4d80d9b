"""Scheduled messages (delayed, or waiting for a retry's backoff): page through them, cancel one."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from web.access import Access, actor, policy
from web.errors import refuse
from web.services import asked_queue
from web.validation import message_id as valid_id
from web.validation import page_cursor, query_number

bp = Blueprint("scheduled", __name__, url_prefix="/api")
log = logging.getLogger(__name__)

PAGE_MAX = 1000


@bp.get("/scheduled")
@policy(Access.ADMIN)
def listing() -> Response:
    """Return scheduled messages, the soonest due first: `?limit=` (1-1000, default 100), `?after=` (a `next`).

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    - {$ref: '#/components/parameters/PageLimit'}
    - {$ref: '#/components/parameters/PageAfter'}
    responses:
      '200':
        description: The scheduled messages, with when each is due.
        content:
          application/json:
            schema:
              type: object
              required: [queue, scheduled, next]
              properties:
                queue: {type: string}
                scheduled:
                  type: array
                  items:
                    type: object
                    required: [id, due_at, attempts, preview]
                    properties:
                      id: {$ref: '#/components/schemas/MessageId'}
                      due_at: {type: number, description: When it is due (seconds since the epoch).}
                      attempts: {type: integer, minimum: 0, description: Runs it has had (a retry has one or more).}
                      preview: {type: string, description: The start of its body.}
                next:
                  type: [string, 'null']
                  description: The `after` of the next page; null on the last.
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    limit = query_number("limit", 1, PAGE_MAX, 100)
    page, following = asked_queue().monitor.scheduled(limit, page_cursor())
    return jsonify({"queue": asked_queue().messages.name, "scheduled": page,
                    "next": f"{following[0]}:{following[1]}" if following else None})


@bp.delete("/scheduled/<message_id>")
@policy(Access.ADMIN)
def cancel(message_id: str) -> Response:
    """Cancel a scheduled message before it runs (it is deleted; a queued or running one is not touched).

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    - name: message_id
      in: path
      required: true
      schema: {$ref: '#/components/schemas/MessageId'}
    responses:
      '204': {description: Cancelled; it will not run.}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    if not asked_queue().messages.cancel(valid_id(message_id), actor()):
        refuse(404, "not_scheduled", "that message is not scheduled (queued, running, settled or unknown)",
               id=message_id)
    log.warning("scheduled message %s cancelled", message_id)
    return Response(status=204)
