"""Periodic messages: schedules (`--every 30s` or a cron line) that send a message at each tick.

A queue's schedules live in Redis: their definitions in `keys.schedules` (name -> JSON), when each
fires next in `keys.schedules_next` (a sorted set, name -> ms). Every worker's promoter calls
`Schedules.fire_due`; lua/fire.lua sends a tick's message only while the set still holds that very
tick (a compare-and-set), so one message goes per tick however many workers and webs run, and a
worker killed mid-tick leaves the tick either sent or not. The next tick is the first after now:
after downtime one catch-up message goes, not a burst. Cron lines are read by croniter, in UTC.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, cast

import redis
from croniter import croniter

from shared.core import keys
from shared.core.ids import new_id
from shared.core.settings import Settings
from shared.messages import lua
from shared.messages.envelope import encode
from shared.messages.timeline import Step, Timeline, step

#: Most schedules a queue may hold (each tick of the promoter reads at most FIRE_STEP of them).
SCHEDULES_MAX = 1000
#: Schedules fired in one look (the rest wait for the next, 50 ms later).
FIRE_STEP = 50
#: The shortest and longest `every`.
EVERY_MIN_MS = 1000
EVERY_MAX_MS = 366 * 86_400_000
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_EVERY = re.compile(r"([0-9]{1,12})(ms|s|m|h|d)")
_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


class BadSchedule(ValueError):
    """A schedule that cannot be kept: its reason is the message."""


def parse_every(text: str) -> int:
    """Read an interval such as `30s`, `5m`, `1h`, `500ms`, `2d`; return ms (BadSchedule when it is not one)."""
    found = _EVERY.fullmatch(text.strip())
    if not found:
        raise BadSchedule("every is a number and a unit: 30s, 5m, 1h, 2d (or 1500ms)")
    every = int(found[1]) * _UNITS[found[2]]
    if not EVERY_MIN_MS <= every <= EVERY_MAX_MS:
        raise BadSchedule("every is from 1s to 366d")
    return every


@dataclass(frozen=True)
class Schedule:
    """A named schedule: its message body (JSON text), and `every_ms` or a `cron` line (UTC)."""

    name: str
    body: str
    every_ms: int | None = None
    cron: str | None = None
    #: When it was made (ms): `every` ticks fall on created_ms + k * every_ms.
    created_ms: int = 0

    def __post_init__(self) -> None:
        if not NAME.fullmatch(self.name):
            raise BadSchedule("a schedule's name is 1-64 letters, digits, '_', '.' or '-'")
        if (self.every_ms is None) == (self.cron is None):
            raise BadSchedule("give every or cron, one of the two")
        if self.every_ms is not None and not EVERY_MIN_MS <= self.every_ms <= EVERY_MAX_MS:
            raise BadSchedule("every is from 1s to 366d")
        if self.cron is not None and (len(self.cron) > 100 or len(self.cron.split()) != 5
                                      or not croniter.is_valid(self.cron)):
            raise BadSchedule("cron is a line of five fields, such as '*/5 * * * *' (UTC)")

    def following(self, after_ms: int) -> int:
        """Return the first tick after `after_ms` (ms since the epoch)."""
        if self.every_ms is not None:
            return self.created_ms + ((after_ms - self.created_ms) // self.every_ms + 1) * self.every_ms
        start = datetime.fromtimestamp(after_ms / 1000, UTC)
        return int(croniter(self.cron, start).get_next(float) * 1000)

    def dump(self) -> str:
        """Write the definition as stored."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def load(cls, raw: str) -> Schedule:
        """Read a stored definition."""
        return cls(**json.loads(raw))


class Schedules:
    """A queue's periodic schedules: add, remove, list, and send the messages of the ticks that are due."""

    def __init__(self, connection: redis.Redis, settings: Settings):
        self.redis = connection
        self.queue = settings.queue_name
        self._fire = connection.register_script(lua.FIRE)
        self.timeline = Timeline(connection, settings)

    def add(self, schedule: Schedule) -> bool:
        """Store a schedule (replacing one of that name), its first tick next; tell whether it is new.

        Raises BadSchedule when the queue holds SCHEDULES_MAX others already.
        """
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hexists(keys.schedules(self.queue), schedule.name)
            pipe.hlen(keys.schedules(self.queue))
            exists, count = pipe.execute()
        if not exists and count >= SCHEDULES_MAX:
            raise BadSchedule(f"a queue holds at most {SCHEDULES_MAX} schedules: remove one first")
        first = schedule.following(int(time.time() * 1000))
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.schedules(self.queue), schedule.name, schedule.dump())
            pipe.zadd(keys.schedules_next(self.queue), {schedule.name: first})
            pipe.execute()
        return not exists

    def remove(self, name: str) -> bool:
        """Delete a schedule; tell whether there was one."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(keys.schedules(self.queue), name)
            pipe.zrem(keys.schedules_next(self.queue), name)
            pipe.hdel(keys.schedules_fired(self.queue), name)
            removed, _, _ = pipe.execute()
        return bool(removed)

    def listing(self) -> list[dict[str, Any]]:
        """Return every schedule (at most SCHEDULES_MAX), the soonest to fire first, with its next tick and count."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrange(keys.schedules_next(self.queue), 0, SCHEDULES_MAX - 1, withscores=True)
            pipe.hgetall(keys.schedules(self.queue))
            pipe.hgetall(keys.schedules_fired(self.queue))
            upcoming, definitions, fired = pipe.execute()
        out = []
        for name, next_ms in cast(list[tuple[str, float]], upcoming):
            raw = definitions.get(name)
            if raw is None:
                continue
            schedule = Schedule.load(raw)
            out.append({"name": name, "every_ms": schedule.every_ms, "cron": schedule.cron,
                        "body": json.loads(schedule.body), "next_at": next_ms / 1000,
                        "fired": int(fired.get(name, 0))})
        return out

    def fire_due(self, now: float | None = None) -> int:
        """Send the message of each tick that is due (at most FIRE_STEP schedules); return how many went."""
        now_ms = int((time.time() if now is None else now) * 1000)
        due = cast(list[tuple[str, float]], self.redis.zrangebyscore(
            keys.schedules_next(self.queue), "-inf", now_ms, start=0, num=FIRE_STEP, withscores=True))
        if not due:
            return 0
        definitions = cast(list[str | None], self.redis.hmget(keys.schedules(self.queue), [n for n, _ in due]))
        fire_keys = [keys.schedules_next(self.queue), self.queue, keys.pending(self.queue), keys.stats(self.queue),
                     keys.schedules_fired(self.queue)]
        sent: list[tuple[str, str]] = []
        with self.redis.pipeline(transaction=False) as pipe:  # one round trip for every tick due
            for (name, tick), raw in zip(due, definitions, strict=True):
                if raw is None:  # removed meanwhile (remove() took its tick out too)
                    continue
                schedule = Schedule.load(raw)
                message_id = new_id(now_ms / 1000)
                self._fire(keys=fire_keys, client=pipe,
                           args=[name, int(tick), schedule.following(now_ms), message_id,
                                 encode(message_id, schedule.body, now_ms / 1000)])
                sent.append((message_id, name))
            fired = [int(each) for each in pipe.execute()]
        self.timeline.note((message_id, step(Step.ENQUEUED, now_ms / 1000, queue=self.queue, by=f"schedule {name}",
                                             via="FIRE"))
                           for (message_id, name), went in zip(sent, fired, strict=True) if went)
        return sum(fired)
