"""Read-only views of the message queue: a message's status, queue figures, workers, dead letters.

Every view is a fixed number of O(1) or O(log n) commands per item shown: none reads a whole
list, set or hash, so each costs the same with ten messages or ten million.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any, cast

import redis

from shared.core import keys
from shared.core.ids import id_minute, id_time, is_valid
from shared.core.settings import Settings
from shared.messages.envelope import decode, envelope_id, excerpt
from shared.messages.queue import processing_key
from shared.messages.record import Record
from shared.messages.status import MessageStatus


def _number(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


class QueueMonitor:
    """Answer questions about the queue without changing it."""

    def __init__(self, connection: redis.Redis, settings: Settings):
        self.redis = connection
        self.settings = settings
        self.name = settings.queue_name

    def lookup(self, message_id: str) -> Record | None:
        """Return a message's record: dead, stored, or derived from the pending hash (queued or held); else None."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(keys.dead_letters(self.name), message_id)
            pipe.hget(keys.results(self.name, id_minute(message_id)), message_id)
            pipe.hget(keys.pending(self.name), message_id)
            dead, stored, holder = pipe.execute()
        if dead is not None:
            return Record.parse(dead)
        found = Record.parse(stored) if stored is not None else (Record.queued(message_id) if holder is not None
                                                                 else None)
        if found is not None and holder and found.status is MessageStatus.QUEUED:
            if holder.startswith("@"):  # delayed, or a retry waiting for its backoff
                found = replace(found, status=MessageStatus.SCHEDULED, due_at=int(holder[1:]) / 1000)
            else:
                found = replace(found, status=MessageStatus.PROCESSING, worker=holder)
        return found

    def message(self, message_id: str) -> dict[str, Any] | None:
        """Return a message's status, result, worker, attempts and timings, or None."""
        found = self.lookup(message_id)
        return None if found is None else found.describe(message_id)

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
            replies = pipe.execute()
        served = [self._served(data) for data in replies[::2]]
        with self.redis.pipeline(transaction=False) as pipe:
            for name, queues in zip(names, served, strict=True):
                for queue in queues:
                    pipe.llen(processing_key(self.settings.for_queue(queue), name))
            lengths = iter(pipe.execute())
        now = time.time()
        out = []
        for i, name in enumerate(names):
            data, alive = replies[2 * i], replies[2 * i + 1]
            in_flight = sum(next(lengths) for _ in served[i])
            if not data and not in_flight:
                continue  # left between SMEMBERS and the reads
            beat = _number(data.get("heartbeat_at")) or 0.0
            since = _number(data.get("current_since"))
            stuck = bool(data.get("stuck_since")) and bool(alive)
            out.append({
                "name": name,
                "state": "stuck" if stuck else ("alive" if alive else "lost"),
                "host": data.get("host"),
                "pid": int(data.get("pid", 0) or 0),
                "delivery": data.get("delivery"),
                "queues": served[i],
                "processed": int(data.get("processed", 0) or 0),
                "failed": int(data.get("failed", 0) or 0),
                "current": data.get("current") or None,
                "in_flight": in_flight,
                "started_at": _number(data.get("started_at")),
                "heartbeat_at": beat,
                "heartbeat_age_s": round(max(0.0, now - beat), 3),
                "current_age_s": round(max(0.0, now - since), 3) if since else None,
            })
        return out

    def _served(self, data: dict[str, str]) -> list[str]:
        """Return the queues a worker's hash says it serves (known ones; the default for a worker that says none)."""
        named = [queue for queue in (data.get("queue") or "").split(",") if queue in self.settings.queue_names]
        return named or [self.settings.default_queue]

    def throughput(self, seconds: int = 60) -> list[int]:
        """Return messages done per second over the last `seconds`, oldest first."""
        now = int(time.time())
        span = range(now - seconds + 1, now + 1)
        minutes = sorted({second // 60 for second in span})
        with self.redis.pipeline(transaction=False) as pipe:
            for minute in minutes:
                pipe.hmget(keys.rate(self.name, minute), [str(s) for s in span if s // 60 == minute])
            replies = pipe.execute()
        return [int(v or 0) for values in replies for v in values]

    def glance(self) -> dict[str, Any]:
        """Return the queue's name, how many messages wait (every priority) and whether it is paused: one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            for name in (self.name, keys.high(self.name), keys.low(self.name)):
                pipe.llen(name)
            pipe.exists(keys.paused(self.name))
            *lengths, paused = pipe.execute()
        return {"name": self.name, "length": sum(lengths), "paused": bool(paused)}

    def figures(self) -> dict[str, Any]:
        """Return the queue's length, in flight, counters, dead letters, rate, the oldest message's age, paused."""
        names = self.worker_names()
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(self.name)
            pipe.zcard(keys.dead_index(self.name))
            pipe.hgetall(keys.stats(self.name))
            pipe.lindex(self.name, -1)
            pipe.exists(keys.paused(self.name))
            pipe.zcard(keys.scheduled(self.name))
            pipe.zrange(keys.scheduled(self.name), 0, 0, withscores=True)
            pipe.zcard(keys.schedules_next(self.name))
            pipe.llen(keys.high(self.name))
            pipe.llen(keys.low(self.name))
            pipe.hlen(keys.dead_groups(self.name))
            for name in names:
                pipe.llen(processing_key(self.settings, name))
            replies = pipe.execute()
        length, dead, stats, oldest, paused, scheduled, first_due, schedules, high, low, groups = replies[:11]
        length += high + low
        per_second = self.throughput(60)
        counters = {k: int(v) for k, v in stats.items()}
        oldest_id = envelope_id(oldest) if oldest else None
        enqueued_at = id_time(oldest_id) if oldest_id else None
        in_flight = sum(replies[11:])
        drain, wanted = self._drain(length + in_flight, sum(per_second) / 60.0, len(names))
        return {
            "name": self.name,
            "kind": "messages",
            "length": length,
            "high": high,
            "low": low,
            "in_flight": in_flight,
            "enqueued": counters.get("enqueued", 0),
            "done": counters.get("done", 0),
            "failed": counters.get("failed", 0),
            "dead": dead,
            "dead_groups": groups,
            "dead_lettered": counters.get("dead", 0),
            "reclaimed": counters.get("reclaimed", 0),
            "rate_1m": round(sum(per_second) / 60.0, 3),
            "oldest_age_s": round(max(0.0, time.time() - enqueued_at), 3) if enqueued_at else 0.0,
            "paused": bool(paused),
            "scheduled": scheduled,
            "next_due_at": first_due[0][1] / 1000 if first_due else None,
            "retried": counters.get("retried", 0),
            "expired": counters.get("expired", 0),
            "timeouts": counters.get("timeouts", 0),
            "schedules": schedules,
            "periodic": counters.get("periodic", 0),
            "replayed": counters.get("replayed", 0),
            "rate_limit": self.settings.queue_rate_limit,
            "throttled": counters.get("throttled", 0),
            "timeline_steps": counters.get("timeline_steps", 0),
            "timeline_ttl": self.settings.timeline_ttl,
            "drain_seconds": drain,
            "workers_wanted": wanted,
        }

    def _drain(self, backlog: int, rate: float, workers: int) -> tuple[float | None, int]:
        """Return how long the backlog takes at the last minute's rate (None: it is not draining), and how many
        workers would drain it within DRAIN_TARGET_SECONDS at that rate per worker (at least one while there is one).

        With no completions to go by (idle, paused, or every worker stuck) the answer keeps what runs, at
        least one: a guess would be a number out of nothing.
        """
        if backlog == 0:
            return 0.0, 0
        if rate <= 0:
            return None, max(1, workers)
        per_worker = rate / max(1, workers)
        return round(backlog / rate, 3), max(1, math.ceil(backlog / (per_worker * self.settings.drain_target_seconds)))

    def scheduled(self, limit: int, after: tuple[int, str] | None = None) -> tuple[list[dict[str, Any]],
                                                                                tuple[int, str] | None]:
        """Return up to `limit` scheduled messages, the soonest due first, and the cursor of the next page.

        The cursor is the last message shown (its due ms and id): the page after it starts at its
        rank (ZRANK, then ZRANGE by rank), or, once it has been promoted meanwhile, after its due
        time; either way a page costs O(log n + limit) at any size.
        """
        name = keys.scheduled(self.name)
        rows: list[tuple[str, float]] = []
        if after is not None:
            rank = self.redis.zrank(name, after[1])
            if rank is not None:
                rows = cast(list[tuple[str, float]], self.redis.zrange(name, int(cast(int, rank)) + 1,
                                                                       int(cast(int, rank)) + limit, withscores=True))
            else:
                rows = cast(list[tuple[str, float]], self.redis.zrangebyscore(
                    name, f"({after[0]}", "+inf", start=0, num=limit, withscores=True))
        else:
            rows = cast(list[tuple[str, float]], self.redis.zrange(name, 0, limit - 1, withscores=True))
        envelopes = cast(list[str | None], self.redis.hmget(keys.scheduled_envelopes(self.name),
                                                            [message_id for message_id, _ in rows])) if rows else []
        now = time.time()
        page = []
        for (message_id, score), entry in zip(rows, envelopes, strict=True):
            envelope = decode(entry, now) if entry else None
            page.append({"id": message_id, "due_at": score / 1000, "attempts": envelope.attempts if envelope else 0,
                         "preview": excerpt(envelope) if envelope else ""})
        if len(rows) < limit:
            return page, None
        return page, (int(rows[-1][1]), rows[-1][0])

    def history(self, minutes: int) -> list[dict[str, Any]]:
        """Return done, failed and dead per minute for the last `minutes` (at most a day), oldest first."""
        now = int(time.time()) // 60
        span = range(now - minutes + 1, now + 1)
        hours = sorted({minute // 60 for minute in span})
        with self.redis.pipeline(transaction=False) as pipe:
            for hour in hours:
                pipe.hmget(keys.history(self.name, hour),
                           [f"{minute}:{kind}" for minute in span if minute // 60 == hour
                            for kind in ("done", "failed", "dead")])
            replies = pipe.execute()
        counts = [int(value or 0) for values in replies for value in values]
        return [{"minute": minute * 60, "done": counts[3 * i], "failed": counts[3 * i + 1], "dead": counts[3 * i + 2]}
                for i, minute in enumerate(span)]

    def records(self, message_ids: list[str]) -> list[Record | None]:
        """Return the stored records of many messages in one round trip (None where there is none)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for message_id in message_ids:
                pipe.hget(keys.results(self.name, id_minute(message_id)), message_id)
            return [Record.parse(stored) if stored else None for stored in pipe.execute()]

    def recent(self, count: int = 10) -> list[dict[str, Any]]:
        """Return the latest results, newest first (two round trips in all)."""
        ids = [str(i) for i in self.redis.lrange(keys.RECENT, 0, count - 1) if is_valid(str(i))]
        results = []
        for message_id, stored in zip(ids, self.records(ids), strict=True):
            if stored:
                results.append(stored.describe(message_id))
        return results
