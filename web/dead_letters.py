"""Dead letters: list them, put them back on the queue."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from shared.ids import is_valid
from web.errors import refuse
from web.services import services

bp = Blueprint("dead_letters", __name__, url_prefix="/api")
log = logging.getLogger(__name__)


@bp.get("/dead")
def listing() -> Response:
    """Return dead letters, newest first (`?limit=`, default 100)."""
    limit = request.args.get("limit", "100")
    if not limit.isdigit() or not 0 < int(limit) <= 10000:
        refuse(400, "bad_limit", "limit must be a whole number from 1 to 10000")
    return jsonify({"queue": services().settings.queue_name, "dead": services().monitor.dead(int(limit))})


@bp.post("/dead/requeue")
def requeue() -> Response:
    """Put dead letters back on the queue: `{"all": true}` or `{"ids": [...]}`."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not (data.get("all") is True or isinstance(data.get("ids"), list)):
        refuse(400, "bad_body", 'send {"all": true} or {"ids": ["<id>", ...]}')
    ids = [] if data.get("all") is True else data["ids"]
    if not all(isinstance(i, str) and is_valid(i) for i in ids) or (data.get("all") is not True and not ids):
        refuse(400, "bad_ids", "ids must be a non-empty list of message ids")
    count = services().messages.requeue_dead(ids)
    log.info("requeued %s dead letter(s) on %s", count, services().settings.queue_name)
    return jsonify({"requeued": count})
