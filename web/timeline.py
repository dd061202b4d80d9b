"""A message's timeline: each step it went through, said in plain words, with the Redis commands and keys it used."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from shared.messages.story import story
from web.access import Access, policy
from web.errors import refuse
from web.services import services
from web.validation import message_id as valid_id

bp = Blueprint("timeline", __name__, url_prefix="/api")


@bp.get("/messages/<message_id>/timeline")
@policy(Access.PRODUCER)
def timeline(message_id: str) -> Response:
    """Return a message's steps, oldest first (enqueued, taken, each run, retries, reclaims...), and where it is now.

    Each step names who made it, when, and the script and Redis commands (with their keys) it ran.
    Kept TIMELINE_TTL seconds after the last step (0: none are written).

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/MessageId'}
    responses:
      '200':
        description: The message's timeline.
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Timeline'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    wanted = valid_id(message_id)
    built = services()
    steps = built.messages.timeline.read(wanted)
    now = built.find(wanted)
    if not steps and now is None:
        refuse(404, "unknown_message", "no timeline and no record for this id (unknown, or both expired; "
                                       "TIMELINE_TTL=0 writes no timelines)", id=message_id)
    return jsonify(story(wanted, steps, now, built.settings.default_queue, built.settings.timeline_ttl))
