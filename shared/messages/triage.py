"""Dead-letter triage: an error's signature, the group its dead letters are filed under as they die.

Two errors are the same failure when they differ only in numbers, ids and quoted values:
`KeyError: 'user 41'` and `KeyError: 'user 7'` are one group, `ValueError: bad port 8080` another.
The signature is the error's first line with those parts replaced by `<n>`, `<id>` and `'…'`;
the group is the first 16 hex digits of its SHA-256. The Lua scripts that kill a message file its id
under its group (lua/helpers.lua, `file_dead`), and those that requeue or delete one take it out:
the groups are never computed by a scan.
"""

from __future__ import annotations

import hashlib
import re

from shared.core import keys

#: The longest signature kept (the start of a long first line is what tells errors apart).
SIGNATURE_MAX = 200
#: A group's id: 16 hex digits.
GROUP = re.compile(r"[0-9a-f]{16}")

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
#: ULIDs, UUIDs, hex digests and the like: 8 or more letters and digits with at least one digit.
_ID = re.compile(r"\b(?=[0-9A-Za-z-]*\d)[0-9A-Za-z][0-9A-Za-z-]{7,}\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def signature(error: str) -> str:
    """Return an error's signature: its first line, with numbers, ids and quoted values normalised away."""
    line = (error.strip().splitlines() or [""])[0]
    line = _QUOTED.sub("'…'", line)
    line = _ID.sub("<id>", line)
    line = _NUMBER.sub("<n>", line)
    return line[:SIGNATURE_MAX]


def group_of(error: str) -> tuple[str, str]:
    """Return the group id of an error and its signature."""
    found = signature(error)
    return hashlib.sha256(found.encode()).hexdigest()[:16], found


def filing(queue: str, error: str) -> tuple[str, str]:
    """Return the group set a dead letter of `queue` with this error is filed in, and the error's signature."""
    group, found = group_of(error)
    return keys.dead_group(queue, group), found
