"""The message queue's hot path: put messages on the list, take them off, settle them, give them back, reclaim them.

Dead letters are written here (by SETTLE and RECLAIM, as part of the step that kills a message),
and everything else about them is shared.messages.dead_letters'. Every operation is atomic and
bounded: one Lua call (or a native command) per step, over at most WORKER_BATCH_MAX or CHUNK
messages. Nothing grows with the length of the queue, so no call blocks Redis for long at any size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import redis
from redis.client import Pipeline

from shared.core import keys
from shared.core.ids import id_minute, new_ids
from shared.core.settings import Settings
from shared.messages import lua, record, triage
from shared.messages.envelope import encode, envelope_id
from shared.messages.idempotency import Kept
from shared.messages.schedule import PROMOTE_STEP, Options
from shared.messages.status import Outcome
from shared.messages.timeline import NOTE_CHUNK, Step, Timeline, step

if TYPE_CHECKING:
    from shared.core.otel import Tracing

log = logging.getLogger(__name__)

#: Per-second throughput counts (one hash a minute) are kept this long (the live page charts them).
RATE_TTL = 660
#: Per-minute history (done, failed, dead; one hash an hour) is kept a day and an hour.
HISTORY_TTL = 25 * 3600
#: Messages per ENQUEUE call: a BATCH_MAX request goes as several calls in one round trip.
CHUNK = 1000
#: Entries per RECLAIM call: a dead worker's whole batch, every one on its last attempt, stays a few ms a call.
RECLAIM_CHUNK = 100
#: Most RECLAIM calls one reclaim makes (a list that keeps growing meanwhile is left to the next reap).
RECLAIM_CALLS_MAX = 50
#: Delayed messages per SCHEDULE call (it writes three structures: a quarter of a CHUNK stays near 2 ms).
SCHEDULE_CHUNK = CHUNK // 4


class NotReplicated(redis.exceptions.ConnectionError):
    """A write REDIS_WAIT_REPLICAS replicas did not acknowledge in time (a failover could lose it): retry."""


class Settled(NamedTuple):
    """One message's outcome, ready to be stored."""

    id: str
    outcome: Outcome
    #: The message's status record, as JSON (what GET /api/messages/<id> shows).
    record: str
    #: For a failure: the envelope to requeue, its attempts already counted.
    envelope: str = ""
    #: For a retry: when it is due (ms since the epoch; 0: at once, straight back on the queue).
    due_ms: int = 0
    #: For a dead letter: its group's set and its error's signature (shared/messages/triage.py).
    group: str = ""
    signature: str = ""
    #: For its timeline: the run's number (1 for the first), when it started (s), how long it took, its error.
    attempt: int = 0
    started: float = 0.0
    ms: float = 0.0
    error: str = ""


def _split(ids: Sequence[str], bodies_json: Sequence[str], options: Sequence[Options],
           now: float, trace: str = "") -> tuple[dict[str, list[str | int]], list[str | int]]:
    """Encode a batch sent with options: (id, envelope) pairs due now by priority ("" normal), (id, due ms,
    envelope) triples delayed."""
    now_ms = int(now * 1000)
    at_once: dict[str, list[str | int]] = {}
    later: list[str | int] = []
    for message_id, body, given in zip(ids, bodies_json, options, strict=True):
        envelope = encode(message_id, body, now, opts_json=given.carried(), trace=trace)
        if given.due_ms is not None and given.due_ms > now_ms:
            later += (message_id, given.due_ms, envelope)
        else:
            at_once.setdefault(given.priority or "", []).extend((message_id, envelope))
    return at_once, later


def execute_waiting(pipe: Pipeline) -> list[Any]:
    """Run a pipeline of writes that ends with WAIT; raise NotReplicated when a failover came between them.

    Sentinel may demote the primary between a pipeline's writes and its WAIT (SENTINEL FAILOVER
    sends it REPLICAOF): the writes went to a server that is now a replica and will drop them when
    it syncs with the new primary, and WAIT answers "WAIT cannot be used with replica instances".
    That is what NotReplicated means (retry: at least once, never lost), not a bad request.
    """
    replies = pipe.execute(raise_on_error=False)
    if isinstance(replies[-1], redis.exceptions.ResponseError) and "replica" in str(replies[-1]):
        raise NotReplicated(f"a failover came before the replicas acknowledged the write ({replies[-1]}): retry")
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return list(replies)


def processing_key(settings: Settings, worker: str) -> str:
    """Name a worker's processing list for the queue of `settings` (the default queue's keeps its first name)."""
    return keys.processing(worker, "" if settings.queue_name == settings.default_queue else settings.queue_name)


def _by_minute(settled: Sequence[Settled]) -> list[tuple[int, str, str]]:
    """Return (bucket minute, id, record) of the messages done, by minute (ids made in one millisecond share it)."""
    minutes: dict[str, int] = {}
    ok = []
    for item in settled:
        if item.outcome is Outcome.OK:
            head = item.id[:10]
            minute = minutes.get(head)
            if minute is None:
                minute = minutes[head] = id_minute(item.id)
            ok.append((minute, item.id, item.record))
    ok.sort(key=itemgetter(0))
    return ok


class MessageQueue:
    """Operations on one message queue list."""

    def __init__(self, connection: redis.Redis, settings: Settings, tracing: Tracing | None = None):
        self.redis = connection
        self.settings = settings
        #: This process's tracing, when it is on: an enqueue is a span, its messages carry its traceparent.
        self.tracing = tracing
        self.name = settings.queue_name
        #: The lists a message may wait in, by priority ("" normal).
        self.lists = {"": self.name, "high": keys.high(self.name), "low": keys.low(self.name)}
        self._enqueue_keys = [self.name, keys.stats(self.name), keys.pending(self.name), keys.bell(self.name),
                              self.name, self.lists["high"]]
        self._enqueue = connection.register_script(lua.ENQUEUE)
        self._schedule = connection.register_script(lua.SCHEDULE)
        self._promote = connection.register_script(lua.PROMOTE)
        self._cancel = connection.register_script(lua.CANCEL)
        self._abandon = connection.register_script(lua.ABANDON)
        self._enqueue_once = connection.register_script(lua.ENQUEUE_ONCE)
        self._take = connection.register_script(lua.TAKE)
        self._settle = connection.register_script(lua.SETTLE)
        self._give_back = connection.register_script(lua.GIVE_BACK)
        self._reclaim = connection.register_script(lua.RECLAIM)
        self._claim = connection.register_script(lua.CLAIM)
        self._pop = connection.register_script(lua.POP)
        self.timeline = Timeline(connection, settings)
        #: Messages an ENQUEUE call pushes: fewer when each also starts a timeline (two more commands each).
        self.chunk = NOTE_CHUNK if self.timeline.on else CHUNK

    def enqueue(self, bodies_json: Sequence[str], options: Sequence[Options] | None = None,
                origin: dict[str, str] | None = None) -> list[str]:
        """Enqueue one envelope per JSON body (with its Options, if given) and record the ids as pending.

        Messages due now are LPUSHed (ENQUEUE); delayed ones go to the scheduled set (SCHEDULE),
        for a worker to move onto the queue when they are due. A batch goes as calls of CHUNK
        messages, all in one round trip: each call is short, so a big batch never holds Redis up.
        If the connection drops halfway through, a part may be enqueued and the request still
        answered 503; a retry then enqueues those again (at least once, never lost). `origin` (the
        route, who sent it) goes in each message's timeline. With tracing on, the enqueue is a
        `fila send` span: each envelope carries its `traceparent`, the first step the trace's id.
        """
        if self.tracing is None or not bodies_json:
            return self._push(bodies_json, options, origin or {}, "")
        with self.tracing.sending(self.name, len(bodies_json)) as (traceparent, trace_id):
            return self._push(bodies_json, options, {**(origin or {}), "trace": trace_id}, traceparent)

    def _push(self, bodies_json: Sequence[str], options: Sequence[Options] | None, given: dict[str, str],
              trace: str) -> list[str]:
        """Enqueue the envelopes (enqueue): `given` goes in their timelines, `trace` in each (or "")."""
        if not bodies_json:
            return []
        now = time.time()
        ids = new_ids(len(bodies_json), now)
        calls: list[tuple[Any, list[str], list[str | int]]] = []
        if options is None:  # the hot path: no options, every message due now
            first = step(Step.ENQUEUED, now, queue=self.name, **given) if self.timeline.on else ""
            for start in range(0, len(ids), self.chunk):
                part = ids[start:start + self.chunk]
                args: list[str | int] = [self.timeline.ttl_ms, first]
                for message_id, body in zip(part, bodies_json[start:start + self.chunk], strict=True):
                    args += (message_id, encode(message_id, body, now, trace=trace))
                calls.append((self._enqueue, self._enqueue_keys + self.timeline.started(part), args))
        else:
            calls = self._calls_with_options(ids, bodies_json, options, now, given, trace)
        wait = self.settings.redis_wait_replicas
        if len(calls) == 1 and not wait:  # the common case, one message or a small batch: no pipeline to build
            script, call_keys, args = calls[0]
            script(keys=call_keys, args=args)
            if options is not None:
                self.note_scheduled(ids, options, now, given)
            return ids
        with self.redis.pipeline(transaction=False) as pipe:
            for script, call_keys, args in calls:
                script(keys=call_keys, args=args, client=pipe)
            if wait:
                pipe.wait(wait, self.settings.redis_wait_timeout_ms)
            replies = execute_waiting(pipe) if wait else pipe.execute()
        if wait and replies[-1] < wait:
            raise NotReplicated(f"{replies[-1]} of {wait} replica(s) acknowledged the enqueue within "
                                f"{self.settings.redis_wait_timeout_ms} ms: retry (at least once, never lost)")
        if options is not None:
            self.note_scheduled(ids, options, now, given)
        return ids

    def note_scheduled(self, ids: Sequence[str], options: Sequence[Options], now: float,
                       origin: dict[str, str]) -> None:
        """Start the timelines of the delayed messages of a batch (those due now started theirs in ENQUEUE)."""
        if self.timeline.on:
            self.timeline.note(self._started_steps(ids, options, now, origin, due_now=False))

    def note_enqueued(self, ids: Sequence[str], options: Sequence[Options] | None, now: float,
                      origin: dict[str, str] | None) -> None:
        """Start the timelines of messages enqueued by another script than ENQUEUE (ENQUEUE_ONCE): one NOTE call."""
        if self.timeline.on:
            self.timeline.note(self._started_steps(ids, options or [Options()] * len(ids), now, origin or {},
                                                   due_now=True))

    def _started_steps(self, ids: Sequence[str], options: Sequence[Options], now: float, origin: dict[str, str],
                       *, due_now: bool) -> list[tuple[str, str]]:
        """Return each message's first step: scheduled (delayed), and with `due_now` enqueued (one step a shape)."""
        now_ms, made = int(now * 1000), {}
        steps = []
        for message_id, each in zip(ids, options, strict=True):
            later = each.due_ms is not None and each.due_ms > now_ms
            if not later and not due_now:
                continue
            shape = (each.due_ms if later else None, each.priority or "")
            if shape not in made:
                made[shape] = (
                    step(Step.SCHEDULED, now, queue=self.name, due_at=(each.due_ms or 0) / 1000, **origin) if later
                    else step(Step.ENQUEUED, now, queue=self.name, list=self.lists[each.priority or ""],
                              priority=each.priority, **origin))
            steps.append((message_id, made[shape]))
        return steps

    def enqueue_once(self, bodies_json: Sequence[str], options: Sequence[Options] | None, key_digest: str,
                     digest: str, origin: dict[str, str] | None = None) -> tuple[list[str], Kept | None]:
        """Enqueue a request sent with an Idempotency-Key, unless the key was used: return the ids, and what it was.

        One atomic call (lua/enqueue_once.lua) enqueues the messages (at most idempotency.ONCE_MAX)
        and keeps `Kept(digest, ids)` under the key for IDEMPOTENCY_TTL; when the key is kept
        already, nothing is enqueued and the earlier record comes back (its ids are the answer when
        its digest is the request's). A redis-py retry of this very call finds its own ids: not a replay.
        With tracing on, it is a `fila send` span, as enqueue is.
        """
        if self.tracing is None:
            return self._push_once(bodies_json, options, key_digest, digest, origin or {}, "")
        with self.tracing.sending(self.name, len(bodies_json)) as (traceparent, trace_id):
            return self._push_once(bodies_json, options, key_digest, digest, {**(origin or {}), "trace": trace_id},
                                   traceparent)

    def _push_once(self, bodies_json: Sequence[str], options: Sequence[Options] | None, key_digest: str,
                   digest: str, origin: dict[str, str], trace: str) -> tuple[list[str], Kept | None]:
        """Enqueue under an Idempotency-Key (enqueue_once), `trace` in each envelope (or "")."""
        now = time.time()
        ids = new_ids(len(bodies_json), now)
        by_priority, later = _split(ids, bodies_json, options or [Options()] * len(ids), now, trace)
        at_once = [item for group in by_priority.values() for item in group]
        once_keys = [self.name, keys.stats(self.name), keys.pending(self.name), keys.scheduled(self.name),
                     keys.scheduled_envelopes(self.name), keys.idempotency(self.name, key_digest),
                     self.lists["high"], self.lists["low"], keys.bell(self.name)]
        args = [Kept(digest, ids).dump(), self.settings.idempotency_ttl, len(at_once) // 2, *at_once, *later]
        wait = self.settings.redis_wait_replicas
        if not wait:
            kept = self._enqueue_once(keys=once_keys, args=args)
        else:
            with self.redis.pipeline(transaction=False) as pipe:
                self._enqueue_once(keys=once_keys, args=args, client=pipe)
                pipe.wait(wait, self.settings.redis_wait_timeout_ms)
                kept, acknowledged = execute_waiting(pipe)
            if acknowledged < wait:
                raise NotReplicated(f"{acknowledged} of {wait} replica(s) acknowledged the enqueue within "
                                    f"{self.settings.redis_wait_timeout_ms} ms: retry with the same key")
        if kept is None:
            self.note_enqueued(ids, options, now, {**origin, "via": "ENQUEUE_ONCE"})
            return ids, None
        earlier = Kept.parse(str(kept))
        return (ids, None) if earlier.ids == ids else (earlier.ids, earlier)

    def processing_of(self, worker: str) -> str:
        """Name the worker's processing list for this queue."""
        return processing_key(self.settings, worker)

    def _calls_with_options(self, ids: list[str], bodies_json: Sequence[str], options: Sequence[Options],
                            now: float, origin: dict[str, str],
                            trace: str) -> list[tuple[Any, list[str], list[str | int]]]:
        """Split a batch sent with options into ENQUEUE calls (due now, one list per priority) and SCHEDULE calls."""
        by_priority, later = _split(ids, bodies_json, options, now, trace)
        calls: list[tuple[Any, list[str], list[str | int]]] = []
        for priority, at_once in by_priority.items():
            call_keys = [self.lists[priority], *self._enqueue_keys[1:]]
            first = step(Step.ENQUEUED, now, queue=self.name, list=self.lists[priority], priority=priority or None,
                         **origin) if self.timeline.on else ""
            for start in range(0, len(at_once), 2 * self.chunk):
                part = at_once[start:start + 2 * self.chunk]
                calls.append((self._enqueue, call_keys + self.timeline.started([str(i) for i in part[::2]]),
                              [self.timeline.ttl_ms, first, *part]))
        schedule_keys = [keys.scheduled(self.name), keys.stats(self.name), keys.pending(self.name),
                         keys.scheduled_envelopes(self.name)]
        for start in range(0, len(later), 3 * SCHEDULE_CHUNK):
            calls.append((self._schedule, schedule_keys, later[start:start + 3 * SCHEDULE_CHUNK]))
        return calls

    def promote(self, now: float | None = None, most: int = PROMOTE_STEP) -> tuple[int, float | None]:
        """Move up to `most` due messages onto the queue; return how many, and when the next one is due (s)."""
        at = time.time() if now is None else now
        moved, next_due, ids = self._promote(keys=[keys.scheduled(self.name), self.name, keys.pending(self.name),
                                                   keys.scheduled_envelopes(self.name), self.lists["high"],
                                                   self.lists["low"], keys.bell(self.name)],
                                             args=[int(at * 1000), most])
        if ids:
            promoted = step(Step.PROMOTED, at, queue=self.name)
            self.timeline.note((str(message_id), promoted) for message_id in ids)
        return int(moved), (None if int(next_due) < 0 else int(next_due) / 1000)

    def cancel(self, message_id: str, by: str = "") -> bool:
        """Take a scheduled message out before it runs; tell whether it was scheduled."""
        removed = self._cancel(keys=[keys.scheduled(self.name), keys.pending(self.name), keys.stats(self.name),
                                     keys.scheduled_envelopes(self.name)], args=[message_id])
        if removed is not None:
            self.timeline.note([(message_id, step(Step.CANCELLED, time.time(), by=by))])
        return removed is not None

    def abandon(self, worker: str, failed: Settled, *, reliable: bool) -> bool:
        """Take back the message a stuck handler runs (retry or dead letter, as `failed` says); give the rest back.

        False when the worker no longer holds it (settled meanwhile): then nothing changes.
        """
        now = time.time()
        taken_back = bool(self._abandon(
            keys=[self.processing_of(worker), self.name, keys.pending(self.name), keys.stats(self.name),
                  keys.dead_index(self.name), keys.dead_letters(self.name), keys.scheduled(self.name),
                  keys.scheduled_envelopes(self.name), keys.dead_groups(self.name), keys.dead_group_of(self.name)],
            args=[keys.results_prefix(self.name), self.settings.result_ttl, int(now * 1000), 1 if reliable else 0,
                  id_minute(failed.id), failed.id, failed.record, failed.envelope,
                  "dead" if failed.outcome is Outcome.DEAD else "retry", failed.due_ms, failed.group,
                  failed.signature]))
        if taken_back and self.timeline.on:
            due = failed.due_ms / 1000 if failed.due_ms else None
            ran = {"worker": worker, "attempt": failed.attempt}
            outcome = (step(Step.DEAD, now, **ran, error=failed.error, after=Step.TIMED_OUT.value)
                       if failed.outcome is Outcome.DEAD
                       else step(Step.FAILED, now, **ran, error=failed.error, due_at=due, after=Step.TIMED_OUT.value))
            self.timeline.note([(failed.id, step(Step.TAKEN, failed.started, **ran, queue=self.name)),
                                (failed.id, step(Step.TIMED_OUT, now, **ran, ms=round(failed.ms, 3))),
                                (failed.id, outcome)])
        return taken_back

    def take(self, worker: str, count: int) -> list[str] | None:
        """Move up to `count` of the oldest entries into the worker's processing list; None while paused.

        The entries are claimed for the worker (see shared/messages/lua/helpers.lua): one that only looks
        like an envelope comes back wrapped, under a new id.
        """
        found = take_from([self], worker, count)
        return None if found is None else found[1]

    def take_keys(self, worker: str) -> list[str]:
        """Return the keys TAKE works on for this queue (lua/take.lua: 8 a queue)."""
        return [self.name, self.lists["high"], self.lists["low"], self.processing_of(worker), keys.pending(self.name),
                keys.paused(self.name), keys.stats(self.name), keys.bell(self.name)]

    def take_blocking(self, worker: str, timeout: float) -> str | None:
        """BLMOVE one entry to the tail of the worker's processing list, waiting up to `timeout` seconds.

        The tail, like TAKE: entries are settled from the head, in the order they were taken.
        The entry is claimed right after (one more round trip, on the idle path only).
        """
        entry = cast(str | None, self.redis.blmove(self.name, self.processing_of(worker), timeout,  # type: ignore[arg-type]
                                                   "RIGHT", "RIGHT"))
        if entry is None or self._returned_while_paused(worker, entry, reliable=True):
            return None
        return self._claim_one(worker, entry, self.processing_of(worker))

    def _returned_while_paused(self, worker: str, entry: str, *, reliable: bool) -> bool:
        """Give back an entry a blocking take got after the queue was paused; tell whether it did.

        A worker waits in BLMOVE/BRPOP for up to WORKER_BLOCK_TIMEOUT: a message pushed just after
        a pause would otherwise be taken by that wait. Only the idle path pays this round trip.
        """
        if not self.redis.exists(keys.paused(self.name)):
            return False
        self.give_back(worker, [entry], reliable=reliable)
        return True

    def _claim_one(self, worker: str, entry: str, processing: str | None) -> str:
        """Claim an entry taken by BLMOVE (into `processing`) or BRPOP (None)."""
        if envelope_id(entry) is None:
            return entry  # raw: the worker wraps it
        claimed: str = self._claim(keys=[keys.pending(self.name), keys.stats(self.name), self.processing_of(worker)],
                                   args=[worker, f"{time.time():.6f}", entry, 0 if processing is None else 1])
        return claimed

    def forget(self, entry: str) -> None:
        """Drop a queue entry's id from the pending hash (it was taken off the list by hand)."""
        message_id = envelope_id(entry)
        if message_id:
            self.redis.hdel(keys.pending(self.name), message_id)

    def holding(self, worker: str) -> list[str]:
        """Return what the worker's processing list holds, head (oldest) first (at most a batch or two)."""
        return cast(list[str], self.redis.lrange(self.processing_of(worker), 0, -1))

    def pop(self, worker: str, count: int) -> list[str] | None:
        """RPOP up to `count` entries (at-most-once delivery), without blocking, claimed; None while paused."""
        popped = self._pop(keys=[self.name, keys.pending(self.name), keys.stats(self.name), keys.paused(self.name),
                                 self.lists["high"], self.lists["low"]],
                           args=[count, worker, f"{time.time():.6f}"])
        return None if popped is None else cast(list[str], popped)

    def pop_blocking(self, worker: str, timeout: float) -> str | None:
        """BRPOP one entry, the handout's loop, and claim it."""
        item = self.redis.brpop([self.name], timeout)
        if not item or self._returned_while_paused(worker, cast(str, item[1]), reliable=False):
            return None
        return self._claim_one(worker, cast(str, item[1]), None)

    def settle(self, worker: str, entries: Sequence[str], settled: Sequence[Settled], *,
               reliable: bool, via: str = "") -> tuple[int, int, int]:
        """Store records and route failures (retry or dead letter); return (done, retried, dead).

        `entries` are the queue entries settled, in processing order, taken by `via` (TAKE, BLMOVE,
        POP or BRPOP, for the timelines); done is -1 when the worker no longer holds them (already
        settled, or reaped): then no timeline is written either.
        """
        now = time.time()
        ok = _by_minute(settled)
        args: list[str | int | float] = [
            keys.results_prefix(self.name), self.settings.result_ttl, RATE_TTL, 1 if reliable else 0, len(entries),
            entries[0], entries[-1], len(ok), int(now * 1000), HISTORY_TTL]
        for minute, message_id, stored in ok:
            args += (minute, message_id, stored)
        for item in settled:
            if item.outcome is not Outcome.OK:
                args += (id_minute(item.id), item.id, item.record, item.envelope, item.outcome.value, item.due_ms,
                         item.group, item.signature)
        settle_keys = [self.processing_of(worker), self.name, keys.dead_index(self.name),
                       keys.dead_letters(self.name), keys.stats(self.name), keys.worker(worker),
                       keys.rate(self.name, int(now) // 60), keys.RECENT, keys.pending(self.name),
                       keys.history(self.name, int(now) // 3600), keys.scheduled(self.name),
                       keys.scheduled_envelopes(self.name), keys.dead_groups(self.name), keys.dead_group_of(self.name)]
        wait = self.settings.redis_wait_replicas
        if not wait:
            done, retried, died = self._settle(keys=settle_keys, args=args)
            if done >= 0 and self.timeline.on:
                self.note_settled(worker, settled, via or ("TAKE" if reliable else "POP"))
            return done, retried, died
        # With REDIS_WAIT_REPLICAS the results are stored on a replica before the next batch: a failover
        # then runs again only what was in hand, not what was already settled.
        with self.redis.pipeline(transaction=False) as pipe:
            self._settle(keys=settle_keys, args=args, client=pipe)
            pipe.wait(wait, self.settings.redis_wait_timeout_ms)
            (done, retried, died), acked = execute_waiting(pipe)
        if acked < wait:
            log.warning("settle: %s of %s replica(s) acknowledged within %s ms: after a failover these may run "
                        "again", acked, wait, self.settings.redis_wait_timeout_ms)
        if done >= 0 and self.timeline.on:
            self.note_settled(worker, settled, via or ("TAKE" if reliable else "POP"))
        return done, retried, died

    def note_settled(self, worker: str, settled: Sequence[Settled], via: str) -> None:
        """Write each settled message's run in its timeline: taken (how, with how many), then how it ended.

        A first run that is done writes nothing: its record holds the same (worker, start, time), and the
        timeline's reader tells its `taken` and `done` from it. The hot path stays as it was.
        """
        unusual = [item for item in settled if item.outcome is not Outcome.OK or item.attempt != 1]
        if not unusual:
            return
        batch, steps = len(settled), []
        for item in unusual:
            ran = {"worker": worker, "attempt": item.attempt}
            ended = item.started + item.ms / 1000
            steps.append((item.id, step(Step.TAKEN, item.started, **ran, queue=self.name, via=via, batch=batch)))
            if item.outcome is Outcome.OK:
                steps.append((item.id, step(Step.DONE, ended, **ran, ms=round(item.ms, 3))))
            elif item.outcome is Outcome.RETRY:
                steps.append((item.id, step(Step.FAILED, ended, **ran, ms=round(item.ms, 3), error=item.error,
                                            due_at=item.due_ms / 1000 if item.due_ms else None)))
            else:
                kind = Step.EXPIRED if item.outcome is Outcome.EXPIRED else Step.DEAD
                steps.append((item.id, step(kind, ended, **ran, ms=round(item.ms, 3), error=item.error,
                                            group=item.group.rpartition(":")[2])))
        self.timeline.note(steps)

    def give_back(self, worker: str, entries: Sequence[str], *, reliable: bool) -> int:
        """Put entries taken but not processed back at the consumer end of the queue."""
        if not entries:
            return 0
        given: int = self._give_back(keys=[self.processing_of(worker), self.name,
                                           keys.pending(self.name)],
                                     args=[1 if reliable else 0, *entries])
        if self.timeline.on:
            back = step(Step.GIVEN_BACK, time.time(), worker=worker, queue=self.name)
            self.timeline.note((message_id, back) for message_id in filter(None, map(envelope_id, entries)))
        return given

    def reclaim(self, worker: str, reason: str, by: str = "") -> tuple[int, int]:
        """Move a dead worker's in-flight entries back (attempts + 1) or to the dead letters (filed under the reason).

        RECLAIM_CHUNK entries a call, as many calls as the list needs (a worker holds at most a batch; at most
        RECLAIM_CALLS_MAX calls).
        """
        now = time.time()
        group, signature = triage.filing(self.name, reason)
        requeued = died = 0
        for _ in range(RECLAIM_CALLS_MAX):
            back, dead, left, moved = self._reclaim(
                keys=[self.processing_of(worker), self.name, keys.dead_index(self.name), keys.dead_letters(self.name),
                      keys.stats(self.name), keys.pending(self.name), keys.history(self.name, int(now) // 3600),
                      keys.dead_groups(self.name), keys.dead_group_of(self.name)],
                args=[keys.results_prefix(self.name), self.settings.max_attempts, f"{now:.6f}",
                      self.settings.result_ttl, record.reclaimed_template(reason, now),
                      record.dead_template(reason, now), HISTORY_TTL, group, signature,
                      RECLAIM_CHUNK])
            requeued, died = requeued + back, died + dead
            self._note_reclaimed(worker, reason, by, now, moved)
            if not left:
                break
        return requeued, died

    def _note_reclaimed(self, worker: str, reason: str, by: str, now: float, moved: Sequence[str]) -> None:
        """Write in the timelines of a dead worker's messages that they were put back (or dead-lettered)."""
        if not self.timeline.on or not moved:
            return
        steps = []
        for each in moved:
            message_id, fate, attempt = str(each).split(":")
            steps.append((message_id, step(Step.RECLAIMED, now, **{"from": worker}, by=by,
                                           reason=reason, attempt=int(attempt))))
            if fate == "dead":
                steps.append((message_id, step(Step.DEAD, now, attempt=int(attempt), error=reason,
                                               after=Step.RECLAIMED.value)))
        self.timeline.note(steps)

    def pause(self) -> None:
        """Pause the queue: workers finish what they hold and take nothing more (enqueueing goes on)."""
        self.redis.set(keys.paused(self.name), f"{time.time():.3f}")

    def resume(self) -> None:
        """Let workers take again."""
        self.redis.delete(keys.paused(self.name))


def take_from(queues: Sequence[MessageQueue], worker: str, count: int) -> tuple[MessageQueue | None, list[str]] | None:
    """TAKE up to `count` entries from the first of `queues`, in that order, that is not paused and holds any.

    One atomic call (lua/take.lua) over every queue: a message is never taken twice, and the step
    is bounded by `count`. Returns the queue and its entries, (None, []) when none waits, None when
    every queue is paused. With several queues, a queue that still holds entries rings its bell.
    """
    first = queues[0]
    found = first._take(keys=[name for queue in queues for name in queue.take_keys(worker)],
                        args=[count, worker, f"{time.time():.6f}", 1 if len(queues) > 1 else 0])
    if found is None:
        return None
    position, entries = int(found[0]), cast(list[str], found[1])
    return (queues[position - 1] if position else None), entries


def wait_for_ring(queues: Sequence[MessageQueue], timeout: float) -> bool:
    """Block until one of the queues' bells rings (BLMPOP, up to `timeout` s); tell whether one did."""
    rung = queues[0].redis.blmpop(timeout, len(queues), *(keys.bell(q.name) for q in queues), direction="RIGHT")
    return rung is not None
