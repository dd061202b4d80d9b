"""Dead letters: the messages that failed MAX_ATTEMPTS times, kept with their last error and envelope.

    keys.dead_index(queue)    sorted set: id -> when it died (ms), to page by time of death
    keys.dead_letters(queue)  hash: id -> its record (shared.messages.record, with the envelope to requeue)

SETTLE and RECLAIM write them (the step that kills a message files it); this class owns the rest,
as rq's FailedJobRegistry does: paging, looking one up, requeueing, deleting, purging. Every call
is bounded: a page of at most `limit`, DEAD_CHUNK letters per Redis call, `most` per request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any, cast

import redis

from shared.core import keys
from shared.core.codec import STORED_DEPTH_MAX, dumps, loads
from shared.core.ids import id_time
from shared.core.settings import Settings
from shared.messages import lua
from shared.messages.record import Record

#: Dead letters per REQUEUE_DEAD call or purge step (about 2 ms of Redis each; make bench scale).
DEAD_CHUNK = 200
#: Characters of a dead letter's body shown in lists.
PREVIEW_CHARS = 200


class DeadLetters:
    """The dead letters of one message queue."""

    def __init__(self, connection: redis.Redis, settings: Settings):
        self.redis = connection
        self.name = settings.queue_name
        self.index, self.records = keys.dead_index(self.name), keys.dead_letters(self.name)
        self._requeue = connection.register_script(lua.REQUEUE_DEAD)

    def page(self, limit: int = 100, after: tuple[int, str] | None = None) -> list[dict[str, Any]]:
        """Return up to `limit` dead letters, newest first, with a preview; `after` (died ms, id) continues a page.

        Letters that died in the same millisecond share a score; Redis orders them by id, so a
        page may end among them: the rest of that millisecond (a few hundred at most, what one
        reclaim moves) is read whole and cut at the id.
        """
        if after is None:
            scored = cast(list[tuple[str, float]], self.redis.zrevrangebyscore(
                self.index, "+inf", "-inf", start=0, num=limit, withscores=True))
        else:
            died_ms, last_id = after
            same = cast(list[tuple[str, float]], self.redis.zrangebyscore(self.index, died_ms, died_ms,
                                                                          withscores=True))
            scored = [(member, score) for member, score in reversed(same) if member < last_id][:limit]
            if len(scored) < limit:
                scored += cast(list[tuple[str, float]], self.redis.zrevrangebyscore(
                    self.index, f"({died_ms}", "-inf", start=0, num=limit - len(scored), withscores=True))
        if not scored:
            return []
        stored = cast(list[str | None], self.redis.hmget(self.records, [message_id for message_id, _ in scored]))
        now = time.time()
        return [_view(message_id, died_ms, raw, now, preview=True)
                for (message_id, died_ms), raw in zip(scored, stored, strict=True)]

    def one(self, message_id: str) -> dict[str, Any] | None:
        """Return one dead letter with its whole body, or None."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zscore(self.index, message_id)
            pipe.hget(self.records, message_id)
            died_ms, raw = pipe.execute()
        if raw is None:
            return None
        return _view(message_id, died_ms or 0.0, raw, time.time(), preview=False)

    def count(self, until_ms: int | None = None) -> int:
        """Count the dead letters (that died up to `until_ms`)."""
        if until_ms is None:
            return int(self.redis.zcard(self.index))
        return int(self.redis.zcount(self.index, "-inf", until_ms))

    def requeue(self, ids: Sequence[str]) -> int:
        """Put the dead letters with these ids back on the queue, attempts reset; return how many went."""
        count = 0
        for start in range(0, len(ids), DEAD_CHUNK):
            count += int(self._requeue(
                keys=[self.index, self.records, self.name, keys.stats(self.name), keys.pending(self.name)],
                args=[keys.results_prefix(self.name), *ids[start:start + DEAD_CHUNK]]))
        return count

    def requeue_all(self, until_ms: int, most: int) -> int:
        """Requeue up to `most` of the messages dead by `until_ms`, DEAD_CHUNK per call (later deaths stay dead)."""
        return sum(self.requeue(chunk) for chunk in self._oldest(until_ms, most))

    def delete(self, message_id: str) -> bool:
        """Delete one dead letter; tell whether there was one."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self.records, message_id)
            pipe.zrem(self.index, message_id)
            deleted, _ = pipe.execute()
        return bool(deleted)

    def purge(self, until_ms: int, most: int) -> int:
        """Delete up to `most` of the messages dead by `until_ms`, DEAD_CHUNK per call; return how many."""
        count = 0
        for chunk in self._oldest(until_ms, most):
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.hdel(self.records, *chunk)
                pipe.zrem(self.index, *chunk)
                deleted, _ = pipe.execute()
            count += int(deleted)
        return count

    def _oldest(self, until_ms: int, most: int) -> Iterator[list[str]]:
        """Yield the ids of up to `most` dead letters that died up to `until_ms`, oldest first, DEAD_CHUNK at a time.

        Each step reads from the start of what is left: for callers that remove what they are
        given (requeue, purge).
        """
        left = most
        while left > 0:
            chunk = cast(list[str], self.redis.zrangebyscore(self.index, "-inf", until_ms, 0, min(DEAD_CHUNK, left)))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def _view(message_id: str, died_ms: float, raw: str | None, now: float, *, preview: bool) -> dict[str, Any]:
    """Return the API's view of a dead letter (its body cut to a preview in lists)."""
    letter = Record.parse(raw) if raw else None
    try:
        body = loads(letter.envelope or "null", STORED_DEPTH_MAX).get("body") if letter else None
    except (ValueError, AttributeError):
        body = None
    text = body if isinstance(body, str) else dumps(body)
    item: dict[str, Any] = {
        "id": message_id, "error": letter.error if letter else None, "attempts": letter.attempts if letter else 0,
        "worker": letter.worker if letter else None,
        "enqueued_at": (letter.enqueued_at if letter else None) or id_time(message_id),
        "died_at": died_ms / 1000, "age_s": round(max(0.0, now - died_ms / 1000), 3),
        "cursor": f"{int(died_ms)}:{message_id}",
        "preview": text[:PREVIEW_CHARS], "size": len(text)}
    if not preview:
        item["body"] = body
    return item
