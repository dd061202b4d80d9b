"""The worker loop: take a batch, run the handler on each message, hand the results to the settler."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import redis

from shared.core import logs
from shared.core.codec import dumps
from shared.core.connection import FULL, TRANSIENT
from shared.core.ids import IdSupply
from shared.core.settings import Settings
from shared.messages import failure, record
from shared.messages.envelope import Envelope, decode, excerpt
from shared.messages.handlers import Handler
from shared.messages.queue import MessageQueue, Settled, take_from, wait_for_ring
from shared.messages.schedule import expired, timeout_of
from shared.messages.status import MessageStatus, Outcome
from worker import served
from worker.backoff import Backoff
from worker.handoff import Handoff
from worker.heartbeat import Heartbeat
from worker.promoter import Promoter
from worker.reaper import Reaper
from worker.served import Served
from worker.state import Running, WorkerState, default_name
from worker.watchdog import Watchdog

if TYPE_CHECKING:
    from shared.core.otel import Tracing

log = logging.getLogger(__name__)
message_log = logging.getLogger(logs.MESSAGES)

#: How often a worker looks whether a paused queue was resumed (a worker blocked in BLMOVE when the
#: pause came gives back what that wait brings: shared/messages/queue.py).
PAUSE_POLL_SECONDS = 0.25


class Consumer:
    """Consume one queue with BRPOP (at most once) or BLMOVE (reliable, at least once), or several queues (TAKE)."""

    def __init__(self, connection: redis.Redis, settings: Settings, handler: Handler | None = None,
                 name: str | None = None, queues: list[tuple[str, int]] | None = None, tracing: Tracing | None = None):
        self.settings = settings
        #: This process's tracing, when it is on: each attempt is a span, the child of the one that sent it.
        self.tracing = tracing
        self.stopping = threading.Event()
        spec = queues or [(settings.queue_name if settings.queue_name in settings.queue_names
                           else settings.default_queue, 0)]
        self.served = served.build(connection, settings, spec, self.stopping)
        if handler is not None:
            self.served[0].handler = handler
        self.order = served.Order(self.served)
        #: The queue of the batch in hand (the only one, for a worker of one queue).
        self.batch = self.served[0]
        self.state = WorkerState(name or settings.worker_name or default_name(), settings,
                                 tuple(each.name for each in self.served))
        self.name = self.state.name
        self.reliable = self.state.reliable
        if len(self.served) > 1 and not self.reliable:
            raise ValueError("a worker of several queues takes them reliably (WORKER_DELIVERY=reliable)")
        self.messages = self.served[0].messages
        self.batch_size = 1
        #: How the batch in hand was taken (TAKE, BLMOVE, POP, BRPOP): its messages' timelines say so.
        self.via = "TAKE"
        self.avg_ms: float | None = None
        self.log_messages = settings.log_messages and message_log.isEnabledFor(logging.INFO)
        self.lines: list[str] = []
        self.name_json = dumps(self.name)
        #: When the worker found the queue paused (monotonic), while it is.
        self.paused_since: float | None = None
        self.heartbeat = Heartbeat(connection, self.state, {each.name: each.timings for each in self.served},
                                   [each.messages for each in self.served])
        self.reaper = Reaper(connection, self.state, [MessageQueue(connection, settings.for_queue(queue))
                                                      for queue in settings.queue_names])
        self.promoter = Promoter(self.name, [each.messages for each in self.served])
        self.watchdog = Watchdog(self.state, {each.name: each.messages for each in self.served}, self.stopping,
                                 beat=self.heartbeat.publish)
        self.handoff = Handoff(self.state, self.stopping, on_crash=self.stop)

    def stop(self, *_args: object) -> None:
        """Ask the loop to stop after the message in hand (safe from a signal handler)."""
        self.stopping.set()

    def run(self) -> int:
        """Consume until stopped; return the process exit code."""
        log.info("%s starting: queue=%s delivery=%s handler=%s batch_max=%s block=%ss heartbeat_ttl=%ss redis=%s",
                 self.name, ",".join(f"{each.name}:{each.weight}" if each.weight else each.name
                                     for each in self.served),
                 self.settings.worker_delivery.value, ",".join(each.settings.handler for each in self.served),
                 self.settings.worker_batch_max, self.settings.worker_block_timeout, self.settings.heartbeat_ttl,
                 redis_location(self.settings.redis_url))
        backoff = Backoff()
        started = False
        while not self.stopping.is_set():
            try:
                if not started:
                    self._start()
                    started = True
                if self.handoff.needs_resync():
                    self._recover()
                entries = self._take()
                if entries:
                    self._process(entries)
                backoff.reset()
            except TRANSIENT as exc:
                if started:
                    self.handoff.resync.set()
                delay = backoff.next()
                if backoff.failures == 1 or backoff.failures % 20 == 0:
                    what = "redis is full" if isinstance(exc, FULL) else "redis unavailable"
                    log.warning("%s %s (%s); retrying in %.2fs", self.name, what, exc, delay)
                self.stopping.wait(delay)
        self._finish(started)
        log.info("%s stopped: processed=%s", self.name, self.state.processed)
        return 1 if self.handoff.crashed else 0

    def _start(self) -> None:
        self.heartbeat.beat()
        if self.reliable:
            for each in self.served:
                requeued, died = each.messages.reclaim(self.name, f"worker {self.name} restarted", by=self.name)
                if requeued or died:
                    log.warning("%s recovered its own in-flight messages of %s: %s requeued, %s dead-lettered",
                                self.name, each.name, requeued, died)
        self.heartbeat.start()
        self.reaper.start()
        self.promoter.start()
        self.watchdog.start()
        self.handoff.start()

    def _recover(self) -> None:
        """After a Redis error, give back what the processing list holds that the worker does not know of.

        A TAKE or BLMOVE whose reply was lost still moved its entries, and a failover can lose
        settles the old primary had acknowledged (the new one's list still holds those entries);
        once every batch the worker knows of is stored, anything left in its processing list is
        such an orphan.
        """
        self.handoff.release()
        self.handoff.drain()
        if not self.reliable:
            return
        for each in self.served:
            orphans = each.messages.holding(self.name)
            if orphans:
                given = each.messages.give_back(self.name, orphans, reliable=True)
                log.warning("%s gave back %s message(s) its processing list of %s held unknown to it", self.name,
                            given, each.name)

    def _finish(self, started: bool) -> None:
        if not started:
            return
        self.handoff.close()
        self.watchdog.stop()
        self.promoter.stop()
        self.reaper.stop()
        self.heartbeat.stop()
        try:
            self.heartbeat.deregister()
        except TRANSIENT as exc:
            log.warning("%s could not deregister (%s); its heartbeat will expire", self.name, exc)

    def _take(self) -> list[str]:
        """Take the next batch; the previous batch's held results are stored once it is taken.

        Redis runs one command at a time: a TAKE sent while it stores the previous batch would
        wait for it. Taking first lets Redis store batch i while Python runs batch i + 1.
        """
        count = self.batch_size
        if len(self.served) > 1:
            return self._take_any(count)
        if self.reliable:
            taken, self.via = self.messages.take(self.name, count), "TAKE"
        else:
            taken, self.via = self.messages.pop(self.name, count), "POP"
        self.handoff.release()
        if taken is None:
            self._wait_while_paused()
            return []
        if self.paused_since is not None:
            log.info("%s queue %s resumed after %.1fs; taking again", self.name, self.messages.name,
                     time.monotonic() - self.paused_since)
            self.paused_since = None
        if taken:
            return taken
        if self.reliable:
            entry, self.via = self.messages.take_blocking(self.name, self.settings.worker_block_timeout), "BLMOVE"
        else:
            entry, self.via = self.messages.pop_blocking(self.name, self.settings.worker_block_timeout), "BRPOP"
        return [entry] if entry is not None else []

    def _take_any(self, count: int) -> list[str]:
        """Take a batch from one of several queues (the order's first that holds any); when none does, wait for a ring.

        The wait blocks on the queues' bells (BLMPOP): an enqueue rings its queue's bell, so an idle
        worker of several queues wakes at once; a push that rings none (redis-cli's LPUSH) is
        found by the next TAKE, at most WORKER_BLOCK_TIMEOUT later.
        """
        order = self.order.next()
        found = take_from([each.messages for each in order], self.name, self.order.most(order[0], count))
        self.handoff.release()
        if found is None:
            self._wait_while_paused()
            return []
        self.paused_since = None
        queue, taken = found
        if queue is None:
            wait_for_ring([each.messages for each in self.served], self.settings.worker_block_timeout)
            return []
        self.batch = next(each for each in order if each.messages is queue)
        self.via = "TAKE"
        self.order.took(self.batch, len(taken))
        return taken

    def _wait_while_paused(self) -> None:
        """Take nothing while the queue is paused (the first time, say so); look again soon."""
        if self.paused_since is None:
            self.paused_since = time.monotonic()
            log.info("%s queue %s is paused: taking nothing until it is resumed", self.name,
                     ",".join(self.state.queues))
        self.stopping.wait(PAUSE_POLL_SECONDS)

    def _process(self, entries: list[str]) -> None:
        """Run a batch, storing results at least every WORKER_BATCH_TARGET_MS.

        Slow work (a group that took the target, or a batch of one) is stored before the next
        message starts, so a killed worker runs again only the message in hand. The last group of
        a fast batch is held and stored while the next batch runs (see _take): a kill then
        repeats at most that group, under WORKER_BATCH_TARGET_MS of work.
        """
        now = time.time()
        fresh_ids = IdSupply(len(entries), now)
        target_ms = self.settings.worker_batch_target_ms
        batch = self.batch
        settled: list[Settled] = []
        first = 0
        batch_start = flush_start = time.perf_counter()
        # Messages that may run before the next token request (QUEUE_RATE_LIMIT); without a limit, all.
        allowed = len(entries) if batch.throttle is None else 0
        for index, entry in enumerate(entries):
            if self.stopping.is_set() and index > 0:
                self._submit(entries[first:index], settled, wait=True)
                settled = []
                given = batch.messages.give_back(self.name, entries[index:], reliable=self.reliable)
                log.info("%s stopping: gave %s unprocessed message(s) back to %s", self.name, given, batch.name)
                break
            if allowed == 0:
                allowed = batch.throttle.acquire(len(entries) - index)  # type: ignore[union-attr]
            allowed -= 1
            settled.append(self._run_one(batch, entry, now, fresh_ids))
            if self.watchdog.abandoned is not None and self.watchdog.taken_back():
                # Its message was retried or dead-lettered, the rest of the batch given back: store nothing.
                log.warning("%s %s returned after its timeout: its result and its batch's unstored %s are dropped",
                            self.name, settled[-1].id, len(settled) - 1)
                settled = []
                self.state.current = None
                return
            if (time.perf_counter() - flush_start) * 1000 >= target_ms:
                self._submit(entries[first:index + 1], settled, wait=True)
                settled = []
                first = index + 1
                flush_start = time.perf_counter()
        else:
            if len(entries) > 1 and self.reliable:
                self.handoff.hold(batch.messages, entries[first:], settled, self.via)
                self._log_lines()
            else:
                self._submit(entries[first:], settled, wait=True)
        self.state.current = None
        self._adapt(len(entries), (time.perf_counter() - batch_start) * 1000)

    def _submit(self, entries: list[str], settled: list[Settled], *, wait: bool = False) -> None:
        """Hand results to the settler and log their lines (one record for the group).

        With `wait`, and always in brpop mode, they are stored before going on: popped messages
        exist nowhere else, so a crash loses only the message in hand, as the handout's loop does.
        """
        self.handoff.submit(self.batch.messages, entries, settled, wait=wait or not self.reliable, via=self.via)
        self._log_lines()

    def _log_lines(self) -> None:
        """Log the lines of the messages run since the last time (one record for the group)."""
        if self.lines:
            prefix = f"{logs.stamp()} INFO worker: "
            message_log.info("%s%s", prefix, f"\n{prefix}".join(self.lines))
            self.lines = []

    def _run_one(self, batch: Served, entry: str, now: float, fresh_ids: IdSupply) -> Settled:
        envelope = decode(entry, now, fresh_ids)
        self.state.current = envelope.id
        if envelope.opts and expired(envelope, now):
            return self._expired(envelope, now)
        since = time.time()
        limit = timeout_of(envelope, batch.settings) if envelope.opts else batch.settings.handler_timeout_ms
        self.state.running = Running(envelope.id, entry, since, since + limit / 1000 if limit else None, batch.name)
        start = time.perf_counter()
        try:
            if self.tracing is None:
                payload = dumps(batch.handler(envelope.body, batch.settings))
            else:
                with self.tracing.processing(batch.name, envelope.id, envelope.trace, envelope.attempts + 1):
                    payload = dumps(batch.handler(envelope.body, batch.settings))
        except Exception as exc:
            return self._failed(batch, envelope, f"{type(exc).__name__}: {exc}", start)
        finally:
            self.state.running = None
        ms = (time.perf_counter() - start) * 1000
        batch.timings.observe(ms)
        attempts = envelope.attempts + 1
        if self.log_messages:
            self.lines.append(f"{self.name} {envelope.id} done attempts={attempts} {ms:.3f}ms body={excerpt(envelope)}")
        done = record.done(self.name_json, attempts, envelope.enqueued_at, time.time(), ms, payload)
        return Settled(envelope.id, Outcome.OK, done, attempt=attempts, started=since, ms=ms)

    def _failed(self, batch: Served, envelope: Envelope, error: str, start: float) -> Settled:
        ms = (time.perf_counter() - start) * 1000
        batch.timings.observe(ms)
        settled, wait_ms = failure.route(envelope, error, self.name, ms, batch.settings, time.time())
        log.warning("%s %s failed attempts=%s %.3fms error=%s -> %s body=%s", self.name, envelope.id,
                    envelope.attempts + 1, ms, error, "dead letter" if wait_ms < 0 else f"retry in {wait_ms} ms",
                    excerpt(envelope))
        return settled

    def _expired(self, envelope: Envelope, now: float) -> Settled:
        """Dead-letter a message that waited past its `ttl_ms` without running it."""
        log.warning("%s %s expired (ttl_ms=%s) -> dead letter body=%s", self.name, envelope.id,
                    (envelope.opts or {}).get("ttl_ms"), excerpt(envelope))
        dead = record.failed(MessageStatus.DEAD, Outcome.EXPIRED.value, self.name, envelope.attempts,
                             envelope.enqueued_at, now, 0.0, envelope=envelope.raw)
        return failure.dead_letter(envelope.id, Outcome.EXPIRED, dead, envelope.raw, self.batch.settings,
                                   Outcome.EXPIRED.value)._replace(attempt=envelope.attempts, started=now,
                                                                   error=Outcome.EXPIRED.value)

    def _adapt(self, count: int, elapsed_ms: float) -> None:
        """Size the next batch so that it takes about WORKER_BATCH_TARGET_MS (slow start from 1)."""
        per_message = elapsed_ms / count
        self.avg_ms = per_message if self.avg_ms is None else 0.7 * self.avg_ms + 0.3 * per_message
        ideal = int(self.settings.worker_batch_target_ms / max(self.avg_ms, 0.001))
        throttle = self.batch.throttle
        most = self.settings.worker_batch_max if throttle is None else throttle.batch_max
        self.batch_size = max(1, min(most, ideal, self.batch_size * 2))


def redis_location(url: str) -> str:
    """Return a Redis URL without its password, for logs."""
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}"
    return url
