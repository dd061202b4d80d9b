"""Dead letters: the messages that failed MAX_ATTEMPTS times, kept with their last error and envelope.

    keys.dead_index(queue)    sorted set: id -> when it died (ms), to page by time of death
    keys.dead_letters(queue)  hash: id -> its record (shared.messages.record, with the envelope to requeue)
    keys.dead_groups(queue)   hash: group -> its error's signature (triage: shared.messages.triage)
    keys.dead_group(queue, g) sorted set: the ids of one group -> when they died (ms)
    keys.dead_group_of(queue) hash: id -> its group

SETTLE, ABANDON and RECLAIM write them (the step that kills a message files it, in its group too);
this class owns the rest, as rq's FailedJobRegistry does: paging, looking one up, requeueing,
deleting, purging, and the groups (triage). Every call is bounded: a page of at most `limit`,
DEAD_CHUNK letters per Redis call, `most` per request, GROUPS_MAX groups listed.
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
from shared.messages.timeline import Step, Timeline, step

#: Dead letters per REQUEUE_DEAD or DROP_DEAD call (each files them out of their group too; make bench triage).
DEAD_CHUNK = 100
#: Characters of a dead letter's body shown in lists.
PREVIEW_CHARS = 200
#: Most dead letters one request requeues or deletes ("all", or a group): the client sends it again for more.
STEP_MAX = 10_000
#: Most groups one listing reads (each costs a few O(log n) commands); the rest are counted.
GROUPS_MAX = 1000


class DeadLetters:
    """The dead letters of one message queue."""

    def __init__(self, connection: redis.Redis, settings: Settings):
        self.redis = connection
        self.name = settings.queue_name
        self.index, self.records = keys.dead_index(self.name), keys.dead_letters(self.name)
        self._requeue = connection.register_script(lua.REQUEUE_DEAD)
        self._drop = connection.register_script(lua.DROP_DEAD)
        self.groups, self.group_of = keys.dead_groups(self.name), keys.dead_group_of(self.name)
        self.group_prefix = keys.dead_group_prefix(self.name)
        self.timeline = Timeline(connection, settings)

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

    def requeue(self, ids: Sequence[str], by: str = "") -> int:
        """Put the dead letters with these ids back on the queue, attempts reset; return how many went.

        `by` (who asked: a token's name, a console user, the CLI) goes in their timelines.
        """
        count = 0
        for start in range(0, len(ids), DEAD_CHUNK):
            moved = cast(list[str], self._requeue(
                keys=[self.index, self.records, self.name, keys.stats(self.name), keys.pending(self.name),
                      self.groups, self.group_of],
                args=[keys.results_prefix(self.name), self.group_prefix, *ids[start:start + DEAD_CHUNK]]))
            self._note(Step.REQUEUED, moved, by)
            count += len(moved)
        return count

    def requeue_all(self, until_ms: int, most: int, by: str = "") -> int:
        """Requeue up to `most` of the messages dead by `until_ms`, DEAD_CHUNK per call (later deaths stay dead)."""
        return sum(self.requeue(chunk, by) for chunk in self._oldest(until_ms, most))

    def delete(self, message_id: str, by: str = "") -> bool:
        """Delete one dead letter; tell whether there was one."""
        return self.drop([message_id], by) == 1

    def drop(self, ids: Sequence[str], by: str = "") -> int:
        """Delete the dead letters with these ids (out of their groups too); return how many there were."""
        count = 0
        for start in range(0, len(ids), DEAD_CHUNK):
            dropped = cast(list[str], self._drop(keys=[self.index, self.records, self.groups, self.group_of],
                                                 args=[self.group_prefix, *ids[start:start + DEAD_CHUNK]]))
            self._note(Step.DELETED, dropped, by)
            count += len(dropped)
        return count

    def purge(self, until_ms: int, most: int, by: str = "") -> int:
        """Delete up to `most` of the messages dead by `until_ms`, DEAD_CHUNK per call; return how many."""
        return sum(self.drop(chunk, by) for chunk in self._oldest(until_ms, most))

    def _note(self, kind: Step, ids: Sequence[str], by: str) -> None:
        """Write a requeue or a delete in the timelines of the letters it moved."""
        if ids and self.timeline.on:
            done = step(kind, time.time(), queue=self.name, by=by)
            self.timeline.note((message_id, done) for message_id in ids)

    def group_list(self, limit: int = GROUPS_MAX) -> tuple[list[dict[str, Any]], int]:
        """Return up to `limit` groups, biggest first (count, first and last death, a sample), and how many exist.

        The groups hash is read with HSCAN (COUNT 100 a call) until `limit` are found; each group
        costs a ZCARD and two ZRANGEs of one member, and one HGET for its sample's error.
        """
        found: dict[str, str] = {}
        cursor = 0
        while len(found) < limit:
            cursor, chunk = cast(tuple[int, dict[str, str]], self.redis.hscan(self.groups, cursor, count=100))
            found.update(list(chunk.items())[:limit - len(found)])
            if cursor == 0:
                break
        gids = list(found)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hlen(self.groups)
            for gid in gids:
                pipe.zcard(self.group_prefix + gid)
                pipe.zrange(self.group_prefix + gid, 0, 0, withscores=True)
                pipe.zrange(self.group_prefix + gid, -1, -1, withscores=True)
            total, *replies = pipe.execute()
        groups = []
        for index, gid in enumerate(gids):
            count, first, last = replies[3 * index:3 * index + 3]
            if not count:
                continue  # emptied between the reads
            groups.append({"group": gid, "signature": found[gid], "count": count, "first_at": first[0][1] / 1000,
                           "last_at": last[0][1] / 1000, "sample_id": last[0][0]})
        samples = cast(list[str | None], self.redis.hmget(self.records, [g["sample_id"] for g in groups])) \
            if groups else []
        for group, raw in zip(groups, samples, strict=True):
            group["sample_error"] = Record.parse(raw).error if raw else None
        groups.sort(key=lambda g: (-g["count"], g["group"]))
        return groups, int(total)

    def group_count(self, group: str) -> int:
        """Return how many dead letters a group holds (0 for an unknown one)."""
        return int(self.redis.zcard(self.group_prefix + group))

    def group_step(self, group: str, action: str, most: int, by: str = "") -> int:
        """Requeue (`requeue`) or delete (`delete`) up to `most` of a group's letters, oldest first; return how many."""
        done = 0
        while done < most:
            chunk = cast(list[str], self.redis.zrange(self.group_prefix + group, 0, min(DEAD_CHUNK, most - done) - 1))
            if not chunk:
                break
            moved = self.requeue(chunk, by) if action == "requeue" else self.drop(chunk, by)
            if moved == 0:  # filed but no longer dead (cannot happen through fila; never loop on it)
                break
            done += moved
        return done

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
