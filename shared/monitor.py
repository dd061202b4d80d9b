"""Read-only views of the message queue: a message's status, queue figures, live workers."""

from __future__ import annotations

import time
from typing import Any

import redis

from shared import envelope, keys, record
from shared.codec import loads
from shared.ids import id_minute, is_valid
from shared.settings import Settings
from shared.status import MessageStatus


def _number(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


class QueueMonitor:
    """Answer questions about the queue without changing it."""

    def __init__(self, connection: redis.Redis, settings: Settings):
        self.redis = connection
        self.settings = settings
        self.name = settings.queue_name

    def lookup(self, message_id: str) -> dict[str, Any] | None:
        """Return a message's stored record, or a plain "queued" one while it is pending, or None."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(keys.results(self.name, id_minute(message_id)), message_id)
            pipe.sismember(keys.pending(self.name), message_id)
            stored, pending = pipe.execute()
        if stored is not None:
            return record.parse(stored)
        if pending:
            return record.queued(message_id)
        return None

    def message(self, message_id: str) -> dict[str, Any] | None:
        """Return a message's status, result, worker, attempts and timings, or None."""
        data = self.lookup(message_id)
        if data is None:
            return None
        if data.get("status") == MessageStatus.QUEUED.value and (holder := self.holder(message_id)):
            data = {**data, "status": MessageStatus.PROCESSING.value, "worker": holder}
        return record.describe(message_id, data)

    def holder(self, message_id: str) -> str | None:
        """Return the worker whose processing list holds the message, if any (derived, not stored)."""
        names = self.worker_names()
        with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.lrange(keys.processing(name), 0, -1)
            lists = pipe.execute()
        needle = f"{envelope.HEAD}{message_id}{envelope.ATTEMPTS}"
        for name, entries in zip(names, lists, strict=True):
            if any(entry.startswith(needle) for entry in entries):
                return name
        return None

    def worker_names(self) -> list[str]:
        """Return every registered worker name, alive or not yet reaped."""
        return sorted(str(name) for name in self.redis.smembers(keys.WORKERS))

    def workers(self) -> list[dict[str, Any]]:
        """Return the live workers (a worker whose heartbeat expired is left out)."""
        names = self.worker_names()
        with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(keys.worker(name))
                pipe.llen(keys.processing(name))
            replies = pipe.execute()
        now = time.time()
        out = []
        for i, name in enumerate(names):
            data, in_flight = replies[2 * i], replies[2 * i + 1]
            if not data:
                continue
            beat = _number(data.get("heartbeat_at")) or 0.0
            out.append({
                "name": name,
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
        """Return the queue's length, in flight, done, failed, dead and rate over the last minute."""
        names = self.worker_names()
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(self.name)
            pipe.llen(keys.dead(self.name))
            pipe.hgetall(keys.stats(self.name))
            for name in names:
                pipe.llen(keys.processing(name))
            replies = pipe.execute()
        length, dead, stats = replies[0], replies[1], replies[2]
        per_second = self.throughput(60)
        counters = {k: int(v) for k, v in stats.items()}
        return {
            "name": self.name,
            "kind": "messages",
            "length": length,
            "in_flight": sum(replies[3:]),
            "enqueued": counters.get("enqueued", 0),
            "done": counters.get("done", 0),
            "failed": counters.get("failed", 0),
            "dead": dead,
            "dead_lettered": counters.get("dead", 0),
            "reclaimed": counters.get("reclaimed", 0),
            "rate_1m": round(sum(per_second) / 60.0, 3),
        }

    def records(self, message_ids: list[str]) -> list[dict[str, Any] | None]:
        """Return the stored records of many messages in one round trip (None where there is none)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for message_id in message_ids:
                pipe.hget(keys.results(self.name, id_minute(message_id)), message_id)
            return [record.parse(stored) if stored else None for stored in pipe.execute()]

    def dead(self, limit: int = 100) -> list[dict[str, Any]]:
        """Return up to `limit` dead letters, newest first, with their last error."""
        parsed: list[dict[str, Any]] = []
        for entry in self.redis.lrange(keys.dead(self.name), 0, limit - 1):
            try:
                item = loads(entry)
            except ValueError:
                item = None
            parsed.append(item if isinstance(item, dict) and is_valid(str(item.get("id"))) else
                          {"id": None, "body": entry})
        errors = iter(self.records([item["id"] for item in parsed if item["id"]]))
        for item in parsed:
            stored = next(errors) if item["id"] else None
            item["error"] = stored.get("error") if stored else None
        return parsed

    def recent(self, count: int = 10) -> list[dict[str, Any]]:
        """Return the latest results, newest first (two round trips in all)."""
        ids = [str(i) for i in self.redis.lrange(keys.RECENT, 0, count - 1) if is_valid(str(i))]
        results = []
        for message_id, stored in zip(ids, self.records(ids), strict=True):
            if stored:
                results.append(record.describe(message_id, stored))
        return results
