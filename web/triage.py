"""Dead-letter triage: the dead letters grouped by error signature; requeue or delete a group, or see what would go.

A group is filed as its letters die (shared/messages/triage.py), so listing costs a few commands a
group at any number of dead letters, and acting on a group moves at most STEP_MAX letters a request
(DEAD_CHUNK a Redis call): send the request again while `remaining` says some are left.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify

from shared.messages.dead_letters import GROUPS_MAX, STEP_MAX
from shared.messages.triage import GROUP
from web.access import Access, actor, policy
from web.errors import refuse
from web.services import asked_queue
from web.validation import json_object, query_number

bp = Blueprint("triage", __name__, url_prefix="/api")
log = logging.getLogger(__name__)


@bp.get("/dead/groups")
@policy(Access.ADMIN)
def groups() -> Response:
    """Return the dead letters grouped by error signature, the biggest group first: `?limit=` (1-1000, default 100).

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    - name: limit
      in: query
      explode: false
      schema: {type: integer, minimum: 1, maximum: 1000, default: 100}
    responses:
      '200':
        description: The groups (`total` says how many there are), each with its count, first and last death and a
          sample letter.
        content:
          application/json:
            schema:
              allOf:
              - {$ref: '#/components/schemas/DeadGroups'}
              - type: object
                required: [queue]
                properties:
                  queue: {type: string}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    limit = query_number("limit", 1, GROUPS_MAX, 100)
    queue = asked_queue()
    found, total = queue.dead_letters.group_list(limit)
    return jsonify({"queue": queue.messages.name, "groups": found, "total": total})


def act(group: str, action: str) -> Response:
    """Requeue or delete up to STEP_MAX letters of a group, or say how many a dry run would touch."""
    if not GROUP.fullmatch(group):
        refuse(400, "bad_group", "a group is 16 hex digits, as GET /api/dead/groups gives it")
    usage = ('send {"dry_run": true} to see how many it would touch' +
             (', {"confirm": true} to delete them for good' if action == "delete" else ", {} to requeue them"))
    data: dict[str, Any] = json_object(usage)
    dry_run = data.get("dry_run", False)
    if not isinstance(dry_run, bool) or set(data) - {"dry_run", "confirm"}:
        refuse(400, "bad_body", usage)
    if action == "delete" and not dry_run and data.get("confirm") is not True:
        refuse(400, "bad_body", usage)
    letters = asked_queue().dead_letters
    held = letters.group_count(group)
    if held == 0:
        refuse(404, "unknown_group", f"no dead letter is filed under group {group}", group=group)
    verb = "requeued" if action == "requeue" else "deleted"
    if dry_run:
        return jsonify({"group": group, "dry_run": True, f"would_be_{verb}": held})
    count = letters.group_step(group, action, STEP_MAX, actor())
    left = letters.group_count(group)
    log.warning("%s %s dead letter(s) of group %s of %s; %s remaining", verb, count, group, letters.name, left)
    return jsonify({"group": group, verb: count, "remaining": left})


@bp.post("/dead/groups/<group>/requeue")
@policy(Access.ADMIN)
def requeue(group: str) -> Response:
    """Put a group's dead letters back on the queue (up to 10,000 a request), or `{"dry_run": true}` to count them.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    - {$ref: '#/components/parameters/DeadGroup'}
    requestBody: {$ref: '#/components/requestBodies/GroupAction'}
    responses:
      '200': {$ref: '#/components/responses/GroupActed'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    return act(group, "requeue")


@bp.post("/dead/groups/<group>/delete")
@policy(Access.ADMIN)
def delete(group: str) -> Response:
    """Delete a group's dead letters for good (up to 10,000 a request; `{"confirm": true}`), or count them.

    ---
    tags: [messages]
    parameters:
    - {$ref: '#/components/parameters/Queue'}
    - {$ref: '#/components/parameters/DeadGroup'}
    requestBody: {$ref: '#/components/requestBodies/GroupAction'}
    responses:
      '200': {$ref: '#/components/responses/GroupActed'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    return act(group, "delete")
