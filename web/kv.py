"""The key-value store as REST: GET, PUT, DELETE, HEAD and OPTIONS on /api/kv/<key>."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from web.access import Access, Limit, policy
from web.errors import refuse
from web.services import services
from web.validation import json_object, json_whole, text_body, user_key, user_value, whole_number

bp = Blueprint("kv", __name__, url_prefix="/api/kv")
log = logging.getLogger(__name__)

#: The longest TTL a key may get: ten years (Redis refuses expire times near 2**63 ms).
TTL_MAX = 10 * 365 * 86400


def ttl_seconds(raw: object) -> int | None:
    """Return the TTL a request asks for: a JSON whole number, or the query's digits; None: none."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return whole_number(raw, "ttl", 1, TTL_MAX, code="bad_ttl")
    return json_whole(raw, "ttl", 1, TTL_MAX, code="bad_ttl")


@bp.get("/<key>")
@policy(Access.OPEN)
def read(key: str) -> Response:
    """Return a key's value and remaining TTL (HEAD answers the same without a body).

    ---
    get:
      tags: [kv]
      parameters:
      - name: key
        in: path
        required: true
        schema: {type: string, minLength: 1}
      responses:
        '200':
          description: The value.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/StoredValue'}
        '400': {$ref: '#/components/responses/BadRequest'}
        '404': {$ref: '#/components/responses/NotFound'}
        '409': {$ref: '#/components/responses/WrongType'}
        '503': {$ref: '#/components/responses/Unavailable'}
    head:
      tags: [kv]
      parameters:
      - name: key
        in: path
        required: true
        schema: {type: string, minLength: 1}
      responses:
        '200': {description: It exists.}
        '400': {description: Not a usable name.}
        '404': {description: It does not exist.}
        '409': {description: It holds another type.}
        '503': {description: Redis is unavailable.}
    """
    user_key(key, services().settings, kind="string")
    with services().redis.pipeline(transaction=False) as pipe:
        pipe.get(key)
        pipe.ttl(key)
        value, ttl = pipe.execute()
    log.info("redis GET %s -> %s", key, "hit" if value is not None else "miss")
    if value is None:
        refuse(404, "key_not_found", f"key '{key}' not found: create it with PUT /api/kv/{key}", key=key)
    return jsonify({"key": key, "value": value, "ttl": ttl if ttl >= 0 else None})


@bp.put("/<key>")
@policy(Access.OPEN, Limit.WRITES)
def write(key: str) -> Response:
    """SET a key from `{"value": ..., "ttl": seconds}` or a text/plain body with `?ttl=`.

    ---
    tags: [kv]
    parameters:
    - name: key
      in: path
      required: true
      schema: {type: string, minLength: 1}
    - name: ttl
      in: query
      description: Seconds to keep the key (with a text/plain body).
      explode: false
      schema: {type: integer, minimum: 1, maximum: 315360000}
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [value]
            properties:
              value: {type: string, minLength: 1}
              ttl:
                type: [integer, 'null']
                minimum: 1
                maximum: 315360000
                description: Seconds to keep the key; null or absent for no expiry.
        text/plain:
          schema: {type: string, minLength: 1}
    responses:
      '200':
        description: Replaced.
        content:
          application/json:
            schema: {$ref: '#/components/schemas/StoredValue'}
      '201':
        description: Created.
        content:
          application/json:
            schema: {$ref: '#/components/schemas/StoredValue'}
      '400': {$ref: '#/components/responses/BadRequest'}
      '404': {$ref: '#/components/responses/NotFound'}
      '409': {$ref: '#/components/responses/WrongType'}
      '413': {$ref: '#/components/responses/TooLarge'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    settings = services().settings
    user_key(key, settings, kind="string", writing=True)
    query_ttl = ttl_seconds(request.args.get("ttl"))
    if request.is_json:
        usage = 'send a JSON object {"value": "<text>", "ttl": <seconds, optional>}'
        payload = json_object(usage)
        if not isinstance(payload.get("value"), str):
            refuse(400, "bad_body", usage)
        given = payload.get("ttl", query_ttl)
        if isinstance(given, str):  # JSON numbers only: "30" is not a number of seconds
            refuse(400, "bad_ttl", f"ttl must be a whole number of seconds from 1 to {TTL_MAX} (or null for none)")
        value, ttl = payload["value"], ttl_seconds(given)
    else:
        value, ttl = text_body(), query_ttl
    user_value(value, settings)
    existed = services().redis.set(key, value, ex=ttl, get=True) is not None
    log.info("redis SET %s (ttl %s)", key, ttl)
    response = jsonify({"key": key, "value": value, "ttl": ttl})
    response.status_code = 200 if existed else 201
    return response


@bp.delete("/<key>")
@policy(Access.OPEN, Limit.WRITES)
def delete(key: str) -> Response:
    """DEL a key (404 when it did not exist).

    ---
    delete:
      tags: [kv]
      parameters:
      - name: key
        in: path
        required: true
        schema: {type: string, minLength: 1}
      responses:
        '204': {description: Deleted.}
        '400': {$ref: '#/components/responses/BadRequest'}
        '404': {$ref: '#/components/responses/NotFound'}
        '409': {$ref: '#/components/responses/WrongType'}
        '503': {$ref: '#/components/responses/Unavailable'}
    options:
      tags: [kv]
      parameters:
      - name: key
        in: path
        required: true
        schema: {type: string, minLength: 1}
      responses:
        '200':
          description: The methods.
          headers:
            Allow:
              required: true
              schema: {type: string}
    """
    user_key(key, services().settings, kind="string", writing=True)
    # GETDEL deletes strings only (WRONGTYPE otherwise): this API stores strings, it does not drop lists.
    removed = services().redis.getdel(key) is not None
    log.info("redis GETDEL %s -> %s", key, removed)
    if not removed:
        refuse(404, "key_not_found", f"key '{key}' not found: nothing to delete", key=key)
    return Response(status=204)
