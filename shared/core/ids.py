"""Sortable unique message ids: ULIDs (48-bit milliseconds + 80 random bits, Crockford base32)."""

from __future__ import annotations

import base64
import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: base64's base32 alphabet, value for value, turned into Crockford's (which sorts like the values).
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())
_VALID = frozenset(_CROCKFORD)
#: Crockford's digits turned into the ones int(..., 32) reads.
_TO_INT32 = str.maketrans(_CROCKFORD, "0123456789abcdefghijklmnopqrstuv")


def _time_part(millis: int) -> str:
    chars = []
    for _ in range(10):
        chars.append(_CROCKFORD[millis & 31])
        millis >>= 5
    return "".join(reversed(chars))


def new_ids(count: int, now: float | None = None) -> list[str]:
    """Return `count` ULIDs for one batch: one timestamp, one read of urandom, one base32 pass."""
    head = _time_part(int((time.time() if now is None else now) * 1000))
    # 10 random bytes are exactly 16 base32 characters, so one encoding serves every id.
    noise = base64.b32encode(os.urandom(10 * count)).translate(_TO_CROCKFORD).decode()
    return [head + noise[16 * i:16 * i + 16] for i in range(count)]


class IdSupply:
    """Hand out ids for one batch, drawn all at once the first time one is asked for (and only then)."""

    def __init__(self, count: int, now: float):
        self.count, self.now = count, now
        self._ids: list[str] = []

    def __call__(self) -> str:
        """Return the next id."""
        if not self._ids:
            self._ids = new_ids(self.count, self.now)
            self._ids.reverse()
        return self._ids.pop()


def new_id(now: float | None = None) -> str:
    """Return one ULID."""
    return new_ids(1, now)[0]


def id_millis(message_id: str) -> int:
    """Return the creation time a ULID carries, in milliseconds."""
    return int(message_id[:10].translate(_TO_INT32), 32)


def id_time(message_id: str) -> float | None:
    """Return the creation time (seconds, millisecond precision) a ULID carries, or None."""
    return id_millis(message_id) / 1000 if is_valid(message_id) else None


def id_minute(message_id: str) -> int:
    """Return the minute (since the epoch) a ULID was made in: its results bucket."""
    return id_millis(message_id) // 60000


def id_second(message_id: str) -> int:
    """Return the second (since the epoch) a ULID was made in: its timeline's bucket."""
    return id_millis(message_id) // 1000


def is_valid(message_id: str) -> bool:
    """Tell whether a string is a ULID (every message id fila makes is one)."""
    return len(message_id) == 26 and _VALID.issuperset(message_id)
