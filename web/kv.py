"""The key-value store as REST: GET, PUT, DELETE, HEAD and OPTIONS on /api/kv/<key>."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from web.errors import refuse
from web.services import services
from web.validation import user_key, user_value

bp = Blueprint("kv", __name__, url_prefix="/api/kv")
log = logging.getLogger(__name__)


def ttl_seconds(raw: object) -> int | None:
    """Return the TTL a request asks for (None: none), or refuse it (400)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not str(raw).isdigit() or int(str(raw)) <= 0:
        refuse(400, "bad_ttl", "ttl must be a positive whole number of seconds")
    return int(str(raw))


@bp.get("/<key>")
def read(key: str) -> Response:
    """Return a key's value and remaining TTL (HEAD answers the same without a body)."""
    user_key(key, services().settings, kind="string")
    with services().redis.pipeline(transaction=False) as pipe:
        pipe.get(key)
        pipe.ttl(key)
        value, ttl = pipe.execute()
    log.info("redis GET %s -> %s", key, "hit" if value is not None else "miss")
    if value is None:
        refuse(404, "key_not_found", "key not found", key=key)
    return jsonify({"key": key, "value": value, "ttl": ttl if ttl >= 0 else None})


@bp.put("/<key>")
def write(key: str) -> Response:
    """SET a key from `{"value": ..., "ttl": seconds}` or a text/plain body with `?ttl=`."""
    settings = services().settings
    user_key(key, settings, kind="string", writing=True)
    if request.is_json:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("value"), str):
            refuse(400, "bad_body", 'send a JSON object {"value": "<text>", "ttl": <seconds, optional>}')
        value, raw_ttl = payload["value"], payload.get("ttl")
    else:
        value, raw_ttl = request.get_data(as_text=True), request.args.get("ttl")
    ttl = ttl_seconds(raw_ttl)
    user_value(value, settings)
    existed = services().redis.set(key, value, ex=ttl, get=True) is not None
    log.info("redis SET %s (ttl %s)", key, ttl)
    response = jsonify({"key": key, "value": value, "ttl": ttl})
    response.status_code = 200 if existed else 201
    return response


@bp.delete("/<key>")
def delete(key: str) -> Response:
    """DEL a key (404 when it did not exist)."""
    user_key(key, services().settings, kind="string", writing=True)
    removed = services().redis.delete(key)
    log.info("redis DEL %s -> %s", key, removed)
    if not removed:
        refuse(404, "key_not_found", "key not found", key=key)
    return Response(status=204)
