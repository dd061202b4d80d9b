"""Temporary API tokens: made once (the secret is shown once), kept only as a SHA-256 hash with a TTL (SETEX).

    token = "fila_" + 43 random characters
    fila:token:<sha256(token)>  -> {"id", "name", "created_at", "expires_at"}   (EX the token's TTL)
    fila:tokens (sorted set)    -> sha256 digests, scored by when they expire (to list and revoke)

An id is the first 16 hex digits of the digest: safe to show, enough to revoke.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any, cast

import redis

from shared.core import keys
from shared.core.codec import dumps, loads

PREFIX = "fila_"


def digest(token: str) -> str:
    """Return the SHA-256 of a token's secret (what Redis holds)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create(connection: redis.Redis, name: str, ttl: int) -> tuple[str, dict[str, Any]]:
    """Make a token that lives `ttl` seconds; return the secret (show it once) and its record."""
    secret = PREFIX + secrets.token_urlsafe(32)
    hashed = digest(secret)
    now = time.time()
    record = {"id": hashed[:16], "name": name, "created_at": round(now, 3), "expires_at": round(now + ttl, 3)}
    with connection.pipeline(transaction=True) as pipe:
        pipe.set(keys.token(hashed), dumps(record), ex=ttl)
        pipe.zadd(keys.TOKENS, {hashed: now + ttl})
        pipe.execute()
    return secret, record


def verify(connection: redis.Redis, token: str) -> dict[str, Any] | None:
    """Return the record of a live token (None when unknown, expired or revoked)."""
    if not token.startswith(PREFIX):
        return None
    raw = connection.get(keys.token(digest(token)))
    return cast(dict[str, Any], loads(raw)) if raw else None


def listing(connection: redis.Redis) -> list[dict[str, Any]]:
    """Return the live tokens' records (never their secrets), newest last; forget the expired ones."""
    now = time.time()
    with connection.pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(keys.TOKENS, "-inf", now)
        pipe.zrange(keys.TOKENS, 0, -1)
        _, hashed = pipe.execute()
    if not hashed:
        return []
    records = connection.mget([keys.token(h) for h in hashed])
    return [cast(dict[str, Any], loads(raw)) for raw in records if raw]


def revoke(connection: redis.Redis, token_id: str) -> bool:
    """Revoke the token with this id at once; tell whether there was one."""
    if len(token_id) != 16:
        return False
    hashed = next((str(h) for h in connection.zrange(keys.TOKENS, 0, -1) if str(h).startswith(token_id)), None)
    if hashed is None:
        return False
    with connection.pipeline(transaction=True) as pipe:
        pipe.delete(keys.token(hashed))
        pipe.zrem(keys.TOKENS, hashed)
        deleted, _ = pipe.execute()
    return bool(deleted)
