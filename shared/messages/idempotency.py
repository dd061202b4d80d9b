"""Idempotent enqueue: what an `Idempotency-Key` is remembered as, and how a request is recognised again.

A request sent with the header `Idempotency-Key` (the IETF httpapi draft's name) is enqueued by
lua/enqueue_once.lua, which keeps, in the same atomic call, a record under
`keys.idempotency(queue, sha256(key))`: the digest of the request and the ids it was given,
`<digest>:<id>,<id>,...`, for IDEMPOTENCY_TTL. The same key again finds that record: with the same
digest the first answer is given back (nothing enqueued); with another, the request is refused.
"""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple

#: The header (the IETF httpapi draft's name), and its name in a WSGI environ (read there: 50 ns, not 1.3 us).
HEADER = "Idempotency-Key"
ENVIRON = "HTTP_" + HEADER.upper().replace("-", "_")
#: What a key may be: 1-255 visible ASCII characters (optionally sent as a quoted string, as the draft does).
KEY = re.compile(r'"?([\x21\x23-\x7e][\x20\x21\x23-\x7e]{0,254})"?')
#: Most messages one idempotent request may carry: it is enqueued in one atomic call.
ONCE_MAX = 1000


class Kept(NamedTuple):
    """What a key was used for: the request's digest and the ids it was given."""

    digest: str
    ids: list[str]

    def dump(self) -> str:
        """Write the record as stored."""
        return f"{self.digest}:{','.join(self.ids)}"

    @classmethod
    def parse(cls, raw: str) -> Kept:
        """Read a stored record."""
        digest, _, ids = raw.partition(":")
        return cls(digest, ids.split(","))


def key_digest(key: str) -> str:
    """Return the SHA-256 of an idempotency key (the Redis key names it, never the client's text)."""
    return hashlib.sha256(key.encode()).hexdigest()


def request_digest(method: str, path: str, query: bytes, mimetype: str, body: bytes) -> str:
    """Return the SHA-256 of what makes a request the same request: its method, path, query, type and body."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, mimetype.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    digest.update(body)
    return digest.hexdigest()
