"""Read-only views of the message queue: a message's status, queue figures, workers, dead letters.

Every view is a fixed number of O(1) or O(log n) commands per item shown: none reads a whole
list, set or hash, so each costs the same with ten messages or ten million.
"""

from __future__ import annotations

import time
from typing import Any, cast

import redis

from shared.core import keys
from shared.core.codec import STORED_DEPTH_MAX, dumps, loads
from shared.core.ids import id_minute, id_time, is_valid
from shared.core.settings import Settings
from shared.messages import record
from shared.messages.envelope import envelope_id
from shared.messages.status import MessageStatus

#: Characters of a dead letter's body shown in lists.
PREVIEW_CHARS = 200


def _number(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


class QueueMonitor:
    """Answer questions about the queue without changing it."""

    def __init__(self, connection: redis.Redis, settings: Settings):
        self.redis = connection
        self.settings = settings
        self.name = settings.queue_name

    def lookup(self, message_id: str) -> dict[str, Any] | None:
        """Return a message's record: dead, stored, or derived from the pending hash (queued or held); else None."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(keys.dead_letters(self.name), message_id)
            pipe.hget(keys.results(self.name, id_minute(message_id)), message_id)
            pipe.hget(keys.pending(self.name), message_id)
            dead, stored, holder = pipe.execute()
        if dead is not None:
            return record.parse(dead)
        data = record.parse(stored) if stored is not None else (record.queued(message_id) if holder is not None
                                                                else None)
        if data is not None and holder and data.get("status") == MessageStatus.QUEUED.value:
            data = {**data, "status": MessageStatus.PROCESSING.value, "worker": holder}
        return data

    def message(self, message_id: str) -> dict[str, Any] | None:
        """Return a message's status, result, worker, attempts and timings, or None."""
        data = self.lookup(message_id)
        return None if data is None else record.describe(message_id, data)

    def memory(self) -> dict[str, Any]:
        """Return Redis' memory: used, its maxmemory (0: no limit), and whether it is full (writes refused)."""
        info = self.redis.info("memory")
        used, most = int(info.get("used_memory", 0)), int(info.get("maxmemory", 0))
        return {"used_bytes": used, "max_bytes": most, "full": bool(most) and used >= most}

    def worker_names(self) -> list[str]:
        """Return every registered worker name, alive or not yet reaped."""
        return sorted(str(name) for name in self.redis.smembers(keys.WORKERS))

    def workers(self) -> list[dict[str, Any]]:
        """Return the registered workers; one whose heartbeat stopped is `lost` until a reaper takes its messages."""
        names = self.worker_names()
        with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(keys.worker(name))
                pipe.exists(keys.heartbeat(name))
                pipe.llen(keys.processing(name))
            replies = pipe.execute()
        now = time.time()
        out = []
        for i, name in enumerate(names):
            data, alive, in_flight = replies[3 * i], replies[3 * i + 1], replies[3 * i + 2]
            if not data and not in_flight:
                continue  # left between SMEMBERS and the reads
            beat = _number(data.get("heartbeat_at")) or 0.0
            out.append({
                "name": name,
                "state": "alive" if alive else "lost",
                "host": data.get("host"),
                "pid": int(data.get("pid", 0) or 0),
                "delivery": data.get("delivery"),
                "processed": int(data.get("processed", 0) or 0),
                "failed": int(data.get("failed", 0) or 0),
                "current": data.get("current") or None,
                "in_flight": in_flight,
                "started_at": _number(data.get("started_at")),
                "heartbeat_at": beat,
                "heartbeat_age_s": round(max(0.0, now - beat), 3),
            })
        return out

    def throughput(self, seconds: int = 60) -> list[int]:
        """Return messages done per second over the last `seconds`, oldest first."""
        now = int(time.time())
        values = self.redis.mget([keys.rate(self.name, second) for second in range(now - seconds + 1, now + 1)])
        return [int(v or 0) for v in values]

    def figures(self) -> dict[str, Any]:
        """Return the queue's length, in flight, counters, dead letters, rate, the oldest message's age, paused."""
        names = self.worker_names()
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(self.name)
            pipe.zcard(keys.dead(self.name))
            pipe.hgetall(keys.stats(self.name))
            pipe.lindex(self.name, -1)
            pipe.exists(keys.paused(self.name))
            for name in names:
                pipe.llen(keys.processing(name))
            replies = pipe.execute()
        length, dead, stats, oldest, paused = replies[:5]
        per_second = self.throughput(60)
        counters = {k: int(v) for k, v in stats.items()}
        oldest_id = envelope_id(oldest) if oldest else None
        enqueued_at = id_time(oldest_id) if oldest_id else None
        return {
            "name": self.name,
            "kind": "messages",
            "length": length,
            "in_flight": sum(replies[5:]),
            "enqueued": counters.get("enqueued", 0),
            "done": counters.get("done", 0),
            "failed": counters.get("failed", 0),
            "dead": dead,
            "dead_lettered": counters.get("dead", 0),
            "reclaimed": counters.get("reclaimed", 0),
            "rate_1m": round(sum(per_second) / 60.0, 3),
            "oldest_age_s": round(max(0.0, time.time() - enqueued_at), 3) if enqueued_at else 0.0,
            "paused": bool(paused),
        }

    def history(self, minutes: int) -> list[dict[str, Any]]:
        """Return done, failed and dead per minute for the last `minutes` (at most a day), oldest first."""
        now = int(time.time()) // 60
        span = range(now - minutes + 1, now + 1)
        with self.redis.pipeline(transaction=False) as pipe:
            for minute in span:
                pipe.hmget(keys.history(self.name, minute), ["done", "failed", "dead"])
            counts = pipe.execute()
        return [{"minute": minute * 60, "done": int(done or 0), "failed": int(failed or 0), "dead": int(dead or 0)}
                for minute, (done, failed, dead) in zip(span, counts, strict=True)]

    def records(self, message_ids: list[str]) -> list[dict[str, Any] | None]:
        """Return the stored records of many messages in one round trip (None where there is none)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for message_id in message_ids:
                pipe.hget(keys.results(self.name, id_minute(message_id)), message_id)
            return [record.parse(stored) if stored else None for stored in pipe.execute()]

    def dead(self, limit: int = 100, after: tuple[int, str] | None = None) -> list[dict[str, Any]]:
        """Return up to `limit` dead letters, newest first, with a preview; `after` (died ms, id) continues a page.

        Letters that died in the same millisecond share a score; Redis orders them by id, so a
        page may end among them: the rest of that millisecond (a few hundred at most, what one
        reclaim moves) is read whole and cut at the id.
        """
        index = keys.dead(self.name)
        if after is None:
            scored = cast(list[tuple[str, float]], self.redis.zrevrangebyscore(
                index, "+inf", "-inf", start=0, num=limit, withscores=True))
        else:
            died_ms, last_id = after
            same = cast(list[tuple[str, float]], self.redis.zrangebyscore(index, died_ms, died_ms, withscores=True))
            scored = [(member, score) for member, score in reversed(same) if member < last_id][:limit]
            if len(scored) < limit:
                scored += cast(list[tuple[str, float]], self.redis.zrevrangebyscore(
                    index, f"({died_ms}", "-inf", start=0, num=limit - len(scored), withscores=True))
        if not scored:
            return []
        stored = cast(list[str | None],
                      self.redis.hmget(keys.dead_letters(self.name), [message_id for message_id, _ in scored]))
        now = time.time()
        return [self._dead_letter(message_id, died_ms, raw, now, preview=True)
                for (message_id, died_ms), raw in zip(scored, stored, strict=True)]

    def dead_letter(self, message_id: str) -> dict[str, Any] | None:
        """Return one dead letter with its whole body, or None."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zscore(keys.dead(self.name), message_id)
            pipe.hget(keys.dead_letters(self.name), message_id)
            died_ms, raw = pipe.execute()
        if raw is None:
            return None
        return self._dead_letter(message_id, died_ms or 0.0, raw, time.time(), preview=False)

    @staticmethod
    def _dead_letter(message_id: str, died_ms: float, raw: str | None, now: float, *, preview: bool) -> dict[str, Any]:
        data = record.parse(raw) if raw else {}
        try:
            body = loads(record.envelope(data) or "null", STORED_DEPTH_MAX).get("body")
        except (ValueError, AttributeError):
            body = None
        text = body if isinstance(body, str) else dumps(body)
        item: dict[str, Any] = {
            "id": message_id, "error": data.get("error"), "attempts": data.get("attempts", 0),
            "worker": data.get("worker"), "enqueued_at": data.get("enqueued_at") or id_time(message_id),
            "died_at": died_ms / 1000, "age_s": round(max(0.0, now - died_ms / 1000), 3),
            "cursor": f"{int(died_ms)}:{message_id}",
            "preview": text[:PREVIEW_CHARS], "size": len(text)}
        if not preview:
            item["body"] = body
        return item

    def recent(self, count: int = 10) -> list[dict[str, Any]]:
        """Return the latest results, newest first (two round trips in all)."""
        ids = [str(i) for i in self.redis.lrange(keys.RECENT, 0, count - 1) if is_valid(str(i))]
        results = []
        for message_id, stored in zip(ids, self.records(ids), strict=True):
            if stored:
                results.append(record.describe(message_id, stored))
        return results
