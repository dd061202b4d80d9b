"""Redis clients with explicit, fail-fast timeouts, to one Redis or to the primary a set of Sentinels names.

    REDIS_URL=redis://[user:password@]host:port/db
    REDIS_URL=redis+sentinel://[user:password@]sentinel1:26379,sentinel2:26379,.../service_name[/db]
    REDIS_SENTINEL_PASSWORD=...   (the Sentinels' own password, when they have one)

Through Sentinel a client asks for the primary when it connects; after a failover its old
connections fail (503 on the web, a retry in workers) and the next ones find the new primary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError, Sentinel

from shared.core.settings import Settings

#: Errors that mean "Redis is not reachable right now" (BusyLoadingError and Sentinel's
#: MasterNotFoundError are ConnectionErrors; a primary demoted under a client answers READONLY,
#: which redis-py's Sentinel connections turn into a ConnectionError too).
UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
#: Redis is full (maxmemory reached, noeviction): it refuses what would grow its memory, and answers
#: reads, deletes and expiries. An expected state, not a crash: writes are refused (507) and retried.
FULL = redis.exceptions.OutOfMemoryError
#: What a worker waits out and retries: Redis unreachable, or full.
TRANSIENT = (*UNAVAILABLE, FULL)
SENTINEL_SCHEME = "redis+sentinel"


@dataclass(frozen=True)
class SentinelAddress:
    """Where the Sentinels are, which primary to ask them for, and how to log in to it."""

    sentinels: list[tuple[str, int]]
    service: str
    db: int
    username: str | None
    password: str | None


class Sentinels(Sentinel):
    """redis-py's Sentinel client, writing only to a primary that a majority of the Sentinels names.

    redis-py takes the first Sentinel's answer. One that missed a failover (partitioned, just
    restarted) still names the old primary, and once that one is back, as a replica or not, the
    client would write there; taking the newest configuration epoch among the answers is not
    enough either, when the Sentinels that saw the failover are slow to answer (then the stale one
    is the only answer there is). So every listed Sentinel is asked, and a primary is followed only
    when more than half of them name it: Sentinel promotes only with a majority's votes, so a
    majority naming a primary includes one that took part in the latest failover. Fewer answers, or
    a split, and the connection fails (the web answers 503, a worker retries) rather than writing
    to a primary nobody can confirm.
    """

    def discover_master(self, service_name: str) -> tuple[str, int]:
        """Return the primary more than half of the listed Sentinels name (its newest configuration)."""
        votes: dict[tuple[str, int], int] = {}
        for sentinel in self.sentinels:
            try:
                masters = cast(dict[str, dict[str, Any]], sentinel.sentinel_masters())
            except UNAVAILABLE:
                continue
            state = masters.get(service_name)
            if state and self.check_master_state(state, service_name):  # type: ignore[no-untyped-call]
                address = (state["ip"], state["port"])
                votes[address] = votes.get(address, 0) + 1
        majority = len(self.sentinels) // 2 + 1
        confirmed = [address for address, count in votes.items() if count >= majority]
        if not confirmed:
            raise MasterNotFoundError(f"No primary for {service_name!r} is named by {majority} of the "
                                      f"{len(self.sentinels)} Sentinels (answers: {votes or 'none'})")
        return confirmed[0]


def parse_sentinel_url(url: str) -> SentinelAddress:
    """Read `redis+sentinel://[user:password@]host:port[,host:port...]/service[/db]`."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        raise ValueError(f"not a {SENTINEL_SCHEME}:// URL")
    credentials, _, hosts = parts.netloc.rpartition("@")
    username, _, password = credentials.partition(":") if credentials else ("", "", "")
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "26379")
        sentinels.append((name, int(port)))
    path = [piece for piece in parts.path.split("/") if piece]
    if not path or not all(sentinels):
        raise ValueError("a Sentinel URL names its hosts and the service: redis+sentinel://host:26379/fila")
    return SentinelAddress(sentinels, path[0], int(path[1]) if len(path) > 1 else 0,
                           unquote(username) or None, unquote(password) or None)


def connect(settings: Settings, *, decode: bool = True, block_timeout: float = 0.0,
            name: str | None = None, encoding_errors: str = "strict") -> redis.Redis:
    """Return a client whose commands fail within about a second when Redis is down.

    ``block_timeout`` is added to the socket timeout so that a blocking pop of that
    many seconds never outlives its socket (redis-py issue #2807); so is REDIS_WAIT_TIMEOUT_MS
    when REDIS_WAIT_REPLICAS is on, so that WAIT answers before the socket gives up. RQ needs
    ``decode=False``. `encoding_errors` says what becomes of bytes that are not UTF-8 (a value a
    student stored with redis-cli): `replace` to show them, `surrogateescape` to write them back
    unchanged (workers compare entries with the processing list).
    """
    if settings.redis_wait_replicas:
        block_timeout += settings.redis_wait_timeout_ms / 1000
    options: dict[str, Any] = {
        "decode_responses": decode,
        "encoding_errors": encoding_errors,
        "socket_connect_timeout": settings.redis_connect_timeout,
        "socket_timeout": settings.redis_socket_timeout + block_timeout,
        "retry": Retry(NoBackoff(), settings.redis_retries),
        "client_name": name,
    }
    if not settings.redis_url.startswith(f"{SENTINEL_SCHEME}://"):
        return redis.Redis.from_url(settings.redis_url, **options)
    address = parse_sentinel_url(settings.redis_url)
    # Each Sentinel is asked once per discovery: redis-py's own default (ten retries with backoff,
    # about 9 s for a Sentinel that accepts but does not answer) would hold a request for a minute.
    sentinel = Sentinels(address.sentinels, sentinel_kwargs={  # type: ignore[no-untyped-call]
        "password": settings.redis_sentinel_password or None,
        "socket_connect_timeout": settings.redis_connect_timeout,
        "socket_timeout": settings.redis_socket_timeout,
        "retry": Retry(NoBackoff(), 0)})
    client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        address.service, db=address.db, username=address.username, password=address.password, **options)
    return client
