"""Sortable unique message ids: ULIDs (48-bit milliseconds + 80 random bits, Crockford base32)."""

from __future__ import annotations

import base64
import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: base64's base32 alphabet, value for value, turned into Crockford's (which sorts like the values).
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())
_VALID = frozenset(_CROCKFORD)


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


def new_id(now: float | None = None) -> str:
    """Return one ULID."""
    return new_ids(1, now)[0]


def id_time(message_id: str) -> float | None:
    """Return the creation time (seconds, millisecond precision) a ULID carries, or None."""
    if len(message_id) != 26 or not _VALID.issuperset(message_id):
        return None
    millis = 0
    for char in message_id[:10]:
        millis = millis * 32 + _CROCKFORD.index(char)
    return millis / 1000


def is_valid(message_id: str) -> bool:
    """Tell whether a string looks like an id fila made (a ULID, or one given to a wrapped raw entry)."""
    if len(message_id) == 26:
        return _VALID.issuperset(message_id)
    return message_id.startswith("raw-") and message_id[4:].isdigit()
