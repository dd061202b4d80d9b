"""A message's timeline: each step it went through, when, by whom, and the Redis commands and keys the step used.

A hash a second (`keys.timeline`: field, a message id made in that second; value, its steps, one
compact JSON object a line, oldest first): no key a message, so a million timelines add no million
keys, and no hash grows past a second's messages (its growth never stalls Redis). ENQUEUE starts
a message's timeline; NOTE (lua/note.lua) appends a step right after the call that made it happen
returned: enqueued (the web, with the route and who sent it), scheduled, promoted, taken (worker,
how, how many), each run's end (done, failed with a retry due, dead, expired), timed out,
reclaimed from a dead worker, given back on a warm stop, requeued, cancelled, deleted. A first run
that is done writes nothing: its record tells it. shared/messages/story.py tells them (in words,
with the Redis commands each used).

Bounded: a hash expires TIMELINE_TTL after its last write (0 writes nothing), a timeline holds at
most STEPS_MAX steps, and a step is about 100 bytes. A step that cannot be written (Redis gone
between the two calls) is logged and dropped: the timeline tells the story; the record and the
lists hold the state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import redis

from shared.core import keys
from shared.core.codec import STORED_DEPTH_MAX, dumps, loads
from shared.core.connection import TRANSIENT
from shared.core.ids import id_second
from shared.core.settings import Settings
from shared.messages import lua

log = logging.getLogger(__name__)

#: Most steps a timeline keeps: a message requeued again and again keeps its last STEPS_MAX.
STEPS_MAX = 64
#: Messages a NOTE call writes (a batch of 10,000 goes as several calls in one round trip).
NOTE_CHUNK = 500


class Step(StrEnum):
    """What happened to a message at one point of its life."""

    ENQUEUED = "enqueued"
    SCHEDULED = "scheduled"
    PROMOTED = "promoted"
    TAKEN = "taken"
    DONE = "done"
    #: A run raised; a retry follows (at once, or when `due_at` says).
    FAILED = "failed"
    DEAD = "dead"
    #: Not run: it waited longer than its ttl_ms (a dead letter).
    EXPIRED = "expired"
    #: Its handler ran past its timeout: the watchdog took it back (a retry or a dead letter follows).
    TIMED_OUT = "timed_out"
    #: Its worker died holding it: a reaper put it back (or dead-lettered it, then `dead` follows).
    RECLAIMED = "reclaimed"
    #: Taken but not run: its worker stopped warm and put it back.
    GIVEN_BACK = "given_back"
    REQUEUED = "requeued"
    CANCELLED = "cancelled"
    DELETED = "deleted"


def step(kind: Step, at: float, **fields: Any) -> str:
    """Encode one step: its kind, when (seconds since the epoch), and the fields that have a value."""
    given = {name: value for name, value in fields.items() if value is not None and value != ""}
    return dumps({"step": kind.value, "at": round(at, 3), **given})


class Timeline:
    """Write and read message timelines (nothing at all when TIMELINE_TTL is 0)."""

    def __init__(self, connection: redis.Redis, settings: Settings):
        self.redis = connection
        self.ttl_ms = settings.timeline_ttl * 1000
        self.stats = keys.stats(settings.queue_name)
        self._note = connection.register_script(lua.NOTE) if self.ttl_ms else None

    @property
    def on(self) -> bool:
        """Tell whether timelines are written."""
        return self._note is not None

    def note(self, steps: Iterable[tuple[str, str]]) -> None:
        """Append steps, each (message id, step from `step()`), in order; a Redis error is logged, not raised."""
        if self._note is None:
            return
        by_second: dict[int, list[str]] = {}
        for message_id, encoded in steps:
            by_second.setdefault(id_second(message_id), []).extend((message_id, encoded))
        if not by_second:
            return
        calls: list[tuple[list[str], list[str | int]]] = []
        call_keys: list[str] = [self.stats]
        args: list[str | int] = [self.ttl_ms, STEPS_MAX]
        count = 0
        for second, pairs in by_second.items():
            for first in range(0, len(pairs), 2 * NOTE_CHUNK):
                part = pairs[first:first + 2 * NOTE_CHUNK]
                if count + len(part) // 2 > NOTE_CHUNK:
                    calls.append((call_keys, args))
                    call_keys, args, count = [self.stats], [self.ttl_ms, STEPS_MAX], 0
                call_keys.append(keys.timeline(second))
                args += (len(part) // 2, *part)
                count += len(part) // 2
        calls.append((call_keys, args))
        try:
            if len(calls) == 1:
                self._note(keys=calls[0][0], args=calls[0][1])
                return
            with self.redis.pipeline(transaction=False) as pipe:
                for call_keys, args in calls:
                    self._note(keys=call_keys, args=args, client=pipe)
                pipe.execute()
        except TRANSIENT as exc:
            log.warning("timeline: %s step(s) were not written (%s)", sum(len(p) // 2 for p in by_second.values()),
                        exc)

    def started(self, ids: list[str]) -> list[str]:
        """Return the key ENQUEUE starts these ids' timelines in (all made at one time); none while they are off."""
        return [keys.timeline(id_second(ids[0]))] if self._note is not None and ids else []

    def read(self, message_id: str) -> list[dict[str, Any]]:
        """Return a message's steps, oldest first (those that do not parse are left out)."""
        stored = self.redis.hget(keys.timeline(id_second(message_id)), message_id)
        steps = []
        for raw in str(stored or "").split("\n")[-STEPS_MAX:]:
            try:
                parsed = loads(raw, STORED_DEPTH_MAX)
            except ValueError:
                continue
            if isinstance(parsed, dict) and parsed.get("step") in _KINDS:
                steps.append(parsed)
        return steps


_KINDS = frozenset(kind.value for kind in Step)
