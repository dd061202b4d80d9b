"""Redis clients with explicit, fail-fast timeouts."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from shared.settings import Settings

#: Errors that mean "Redis is not reachable right now" (BusyLoadingError is a ConnectionError).
UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def connect(settings: Settings, *, decode: bool = True, block_timeout: float = 0.0,
            name: str | None = None) -> redis.Redis:
    """Return a client whose commands fail within about a second when Redis is down.

    ``block_timeout`` is added to the socket timeout so that a blocking pop of that
    many seconds never outlives its socket (redis-py issue #2807). RQ needs
    ``decode=False``.
    """
    return redis.Redis.from_url(
        settings.redis_url,
        decode_responses=decode,
        socket_connect_timeout=settings.redis_connect_timeout,
        socket_timeout=settings.redis_socket_timeout + block_timeout,
        retry=Retry(NoBackoff(), settings.redis_retries),
        client_name=name,
    )
