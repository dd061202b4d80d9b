"""The message queue: put messages on the list, take them off, settle them, reclaim them."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple, cast

import redis

from shared import keys, lua, record
from shared.envelope import encode, envelope_id
from shared.ids import id_minute, new_ids
from shared.settings import Settings
from shared.status import Outcome

#: Per-second throughput counters are kept this long (the live page charts them).
RATE_TTL = 660


class Settled(NamedTuple):
    """One message's outcome, ready to be stored."""

    id: str
    outcome: Outcome
    #: The message's status record, as JSON (what GET /api/messages/<id> shows).
    record: str
    #: The envelope to requeue or dead-letter, for a failure.
    envelope: str = ""


class MessageQueue:
    """Operations on one message queue list, each atomic and in one round trip."""

    def __init__(self, connection: redis.Redis, settings: Settings):
        self.redis = connection
        self.settings = settings
        self.name = settings.queue_name
        self._enqueue = connection.register_script(lua.ENQUEUE)
        self._take = connection.register_script(lua.TAKE)
        self._settle = connection.register_script(lua.SETTLE)
        self._give_back = connection.register_script(lua.GIVE_BACK)
        self._reclaim = connection.register_script(lua.RECLAIM)
        self._requeue_dead = connection.register_script(lua.REQUEUE_DEAD)

    def enqueue(self, bodies_json: Sequence[str]) -> list[str]:
        """LPUSH one envelope per JSON body and record the ids as pending; return the ids."""
        if not bodies_json:
            return []
        now = time.time()
        ids = new_ids(len(bodies_json), now)
        args: list[str] = []
        for message_id, body in zip(ids, bodies_json, strict=True):
            args += (message_id, encode(message_id, body, now))
        self._enqueue(keys=[self.name, keys.stats(self.name), keys.pending(self.name)], args=args)
        return ids

    def take(self, worker: str, count: int) -> list[str]:
        """Move up to `count` of the oldest entries into the worker's processing list, without blocking."""
        taken: list[str] = self._take(keys=[self.name, keys.processing(worker)], args=[count])
        return taken

    def take_blocking(self, worker: str, timeout: float) -> str | None:
        """BLMOVE one entry to the tail of the worker's processing list, waiting up to `timeout` seconds.

        The tail, like TAKE: entries are settled from the head, in the order they were taken.
        """
        entry = self.redis.blmove(self.name, keys.processing(worker), timeout, "RIGHT", "RIGHT")  # type: ignore[arg-type]
        return cast(str | None, entry)

    def forget(self, entry: str) -> None:
        """Drop a queue entry's id from the pending set (it was taken off the list by hand)."""
        message_id = envelope_id(entry)
        if message_id:
            self.redis.srem(keys.pending(self.name), message_id)

    def holding(self, worker: str) -> list[str]:
        """Return what the worker's processing list holds, head (oldest) first."""
        return cast(list[str], self.redis.lrange(keys.processing(worker), 0, -1))

    def pop(self, count: int) -> list[str]:
        """RPOP up to `count` entries (at-most-once delivery), without blocking."""
        return cast(list[str], self.redis.rpop(self.name, count) or [])

    def pop_blocking(self, timeout: float) -> str | None:
        """BRPOP one entry, the handout's loop."""
        item = self.redis.brpop([self.name], timeout)
        return cast(str, item[1]) if item else None

    def settle(self, worker: str, entries: Sequence[str], settled: Sequence[Settled], *,
               reliable: bool) -> tuple[int, int, int]:
        """Store records and route failures (retry or dead letter); return (done, retried, dead).

        `entries` are the queue entries settled, in processing order; done is -1 when the
        worker no longer holds them (already settled, or reaped).
        """
        now = time.time()
        ok = sorted((id_minute(item.id), item.id, item.record) for item in settled if item.outcome is Outcome.OK)
        args: list[str | int | float] = [keys.results_prefix(self.name), self.settings.result_ttl, RATE_TTL,
                              1 if reliable else 0, len(entries), entries[0], entries[-1], len(ok)]
        for minute, message_id, stored in ok:
            args += (minute, message_id, stored)
        for item in settled:
            if item.outcome is not Outcome.OK:
                args += (id_minute(item.id), item.id, item.record, item.envelope, item.outcome.value)
        done, retried, died = self._settle(
            keys=[keys.processing(worker) if reliable else "", self.name, keys.dead(self.name),
                  keys.stats(self.name), keys.worker(worker), keys.rate(self.name, int(now)), keys.RECENT,
                  keys.pending(self.name)],
            args=args)
        return done, retried, died

    def give_back(self, worker: str, entries: Sequence[str], *, reliable: bool) -> int:
        """Put entries taken but not processed back at the consumer end of the queue."""
        if not entries:
            return 0
        given: int = self._give_back(keys=[keys.processing(worker) if reliable else "", self.name],
                                     args=[1 if reliable else 0, *entries])
        return given

    def reclaim(self, worker: str, reason: str) -> tuple[int, int]:
        """Move a dead worker's in-flight entries back (attempts + 1) or to the dead letters."""
        now = time.time()
        requeued, died = self._reclaim(
            keys=[keys.processing(worker), self.name, keys.dead(self.name), keys.stats(self.name),
                  keys.pending(self.name)],
            args=[keys.results_prefix(self.name), self.settings.max_attempts, f"{now:.6f}",
                  self.settings.result_ttl, record.reclaimed_template(reason, now)])
        return requeued, died

    def requeue_dead(self, ids: Sequence[str] = ()) -> int:
        """Put dead letters (all, or those with these ids) back on the queue with attempts reset."""
        count: int = self._requeue_dead(keys=[keys.dead(self.name), self.name, keys.stats(self.name),
                                              keys.pending(self.name)],
                                        args=[keys.results_prefix(self.name), *ids])
        return count
