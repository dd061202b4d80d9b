"""fila's Lua scripts, one `.lua` file each, read once at import.

Each script is its file with `helpers.lua` prepended, and before it the envelope's head as
Lua constants, built from `shared.messages.envelope` (the one definition both languages use).
Key names reach the scripts through KEYS or as a prefix in ARGV, both built by `shared.core.keys`.
"""

from __future__ import annotations

from pathlib import Path

from shared.messages import envelope

_HERE = Path(__file__).parent
_LUA_MAGIC = "^$()%.[]*+-?"


def _literal(text: str) -> str:
    """Quote text as a Lua string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _pattern(text: str) -> str:
    """Escape text for use inside a Lua pattern."""
    return "".join(f"%{char}" if char in _LUA_MAGIC else char for char in text)


def _prelude() -> str:
    head, attempts = _pattern(envelope.HEAD), _pattern(envelope.ATTEMPTS)
    constants = {
        "ENVELOPE_HEAD": _literal(envelope.HEAD),
        "ENVELOPE_ATTEMPTS": _literal(envelope.ATTEMPTS),
        "ENVELOPE_ENQUEUED_AT": _literal(envelope.ENQUEUED_AT),
        "ENVELOPE_BODY": _literal(envelope.BODY),
        "ENVELOPE_OPTS": _literal(envelope.OPTS),
        "ENVELOPE_TTL_PATTERN": _literal(f'"{envelope.TTL_OPTION}":%d+'),
        "ENVELOPE_PRIORITY_HIGH": _literal(f'"{envelope.PRIORITY_OPTION}":"high"'),
        "ENVELOPE_PRIORITY_LOW": _literal(f'"{envelope.PRIORITY_OPTION}":"low"'),
        "ENVELOPE_ID_PATTERN": _literal(f'^{head}([^"]*){attempts}%d+'),
        "ENVELOPE_HEAD_PATTERN": _literal(f'^{head}([^"]*){attempts}(%d+)'),
        "ENVELOPE_PREFIX_PATTERN": _literal(f'^({head}[^"]*{attempts})%d+'),
    }
    return "".join(f"local {name} = {value}\n" for name, value in constants.items())


#: What every script starts with: the envelope's constants, then helpers.lua.
HELPERS = _prelude() + (_HERE / "helpers.lua").read_text()


def _load(name: str) -> str:
    return HELPERS + (_HERE / f"{name}.lua").read_text()


ENQUEUE = _load("enqueue")
SCHEDULE = _load("schedule")
PROMOTE = _load("promote")
CANCEL = _load("cancel")
ABANDON = _load("abandon")
FIRE = _load("fire")
ENQUEUE_ONCE = _load("enqueue_once")
BUCKET = _load("bucket")
TAKE = _load("take")
SETTLE = _load("settle")
GIVE_BACK = _load("give_back")
RECLAIM = _load("reclaim")
REQUEUE_DEAD = _load("requeue_dead")
DROP_DEAD = _load("drop_dead")
CLAIM = _load("claim")
POP = _load("pop")
BULK_SET = _load("bulk_set")
BEAT = _load("beat")
NOTE = _load("note")
