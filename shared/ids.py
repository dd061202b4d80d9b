"""Sortable unique message ids (ULID: 48-bit milliseconds + 80 random bits, Crockford base32)."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(now: float | None = None) -> str:
    """Return a 26-character id that sorts by creation time."""
    millis = int((time.time() if now is None else now) * 1000)
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_ids(count: int, now: float | None = None) -> list[str]:
    """Return `count` ids for one batch, sharing one timestamp and one read of urandom."""
    millis = int((time.time() if now is None else now) * 1000)
    head = millis << 80
    noise = os.urandom(10 * count)
    out = []
    for i in range(count):
        value = head | int.from_bytes(noise[10 * i:10 * i + 10], "big")
        chars = []
        for _ in range(26):
            chars.append(_ALPHABET[value & 31])
            value >>= 5
        out.append("".join(reversed(chars)))
    return out


def is_valid(message_id: str) -> bool:
    """Tell whether a string looks like an id fila made (ULID, or one from a wrapped raw entry)."""
    if len(message_id) == 26:
        return all(c in _ALPHABET for c in message_id)
    return message_id.startswith("raw-") and message_id[4:].isdigit()
