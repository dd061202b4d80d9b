"""The key-value store as REST: GET, PUT, DELETE, HEAD and OPTIONS on /api/kv/<key>."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request

from web.context import fila
from web.responses import error
from web.validation import name_problem, value_problem

bp = Blueprint("kv", __name__, url_prefix="/api/kv")
log = logging.getLogger(__name__)


def _ttl_or_error(raw):
    if raw is None or raw == "":
        return None, None
    if isinstance(raw, bool) or not str(raw).isdigit() or int(raw) <= 0:
        return None, error(400, "ttl must be a positive whole number of seconds")
    return int(raw), None


@bp.get("/<key>")
def read(key: str):
    """Return a key's value and remaining TTL (HEAD answers the same without a body)."""
    if problem := name_problem(key, fila().settings):
        return error(400, problem)
    with fila().redis.pipeline(transaction=False) as pipe:
        pipe.get(key)
        pipe.ttl(key)
        value, ttl = pipe.execute()
    log.info("redis GET %s -> %s", key, "hit" if value is not None else "miss")
    if value is None:
        return error(404, "key not found", key=key)
    return jsonify({"key": key, "value": value, "ttl": ttl if ttl >= 0 else None})


@bp.put("/<key>")
def write(key: str):
    """SET a key from `{"value": ..., "ttl": seconds}` or a text/plain body with `?ttl=`."""
    settings = fila().settings
    if problem := name_problem(key, settings, writing=True):
        return error(400, problem)
    if request.is_json:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("value"), str):
            return error(400, 'send a JSON object {"value": "<text>", "ttl": <seconds, optional>}')
        value, raw_ttl = payload["value"], payload.get("ttl")
    else:
        value, raw_ttl = request.get_data(as_text=True), request.args.get("ttl")
    ttl, refusal = _ttl_or_error(raw_ttl)
    if refusal:
        return refusal
    if problem := value_problem(value, settings):
        return error(400, problem)
    existed = fila().redis.set(key, value, ex=ttl, get=True) is not None
    log.info("redis SET %s (ttl %s)", key, ttl)
    response = jsonify({"key": key, "value": value, "ttl": ttl})
    response.status_code = 200 if existed else 201
    return response


@bp.delete("/<key>")
def delete(key: str):
    """DEL a key (404 when it did not exist)."""
    if problem := name_problem(key, fila().settings, writing=True):
        return error(400, problem)
    removed = fila().redis.delete(key)
    log.info("redis DEL %s -> %s", key, removed)
    if not removed:
        return error(404, "key not found", key=key)
    return "", 204
