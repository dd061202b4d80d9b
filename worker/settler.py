"""The settler thread: store results in the background, in the order they were taken (worker/handoff.py feeds it).

At most one batch waits, so a slow Redis slows the loop down instead of piling results up in
memory. While Redis is down or full the settler keeps trying: a result it holds is never lost,
and the message is not run again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from queue import Queue

from shared.core.connection import TRANSIENT
from shared.messages.queue import MessageQueue, Settled
from worker.backoff import Backoff
from worker.state import WorkerState

log = logging.getLogger(__name__)

#: Give up storing after this many failures, once the worker is stopping.
STOPPING_TRIES = 3


class Settler(threading.Thread):
    """One thread that settles each submitted batch on the message queue, in order, retrying on Redis errors."""

    def __init__(self, state: WorkerState, stopping: threading.Event, resync: threading.Event,
                 on_crash: Callable[[], None]):
        super().__init__(name=f"settler-{state.name}", daemon=True)
        self.state = state
        self.stopping = stopping
        self.on_crash = on_crash
        self.crashed = False
        #: The hand-off's: set when storing meets a Redis error or a processing list that disagrees.
        self.resync = resync
        self._mailbox: Queue[tuple[MessageQueue, list[str], list[Settled], str] | None] = Queue(maxsize=1)

    def submit(self, messages: MessageQueue, entries: list[str], settled: list[Settled], via: str = "") -> None:
        """Hand a batch of a queue over, taken by `via` (waits while the previous one is still being stored)."""
        if settled:
            self._mailbox.put((messages, entries, settled, via))

    def drain(self) -> None:
        """Wait until every submitted batch is stored."""
        self._mailbox.join()

    def close(self) -> None:
        """Store what is pending, then end the thread."""
        self._mailbox.put(None)
        self.join()

    def run(self) -> None:
        """Store batches until closed; on an unexpected error stop the worker (its messages stay in flight)."""
        while True:
            item = self._mailbox.get()
            try:
                if item is None:
                    return
                if not self.crashed:
                    self.store(*item)
            except Exception:
                log.exception("storing results failed; stopping the worker (its messages stay in flight)")
                self.crashed = True
                self.on_crash()
            finally:
                self._mailbox.task_done()

    def store(self, messages: MessageQueue, entries: list[str], settled: list[Settled], via: str = "") -> None:
        """Settle one batch (taken by `via`); while Redis is down keep trying (with backoff) unless the worker stops."""
        name, reliable = self.state.name, self.state.reliable
        backoff = Backoff()
        while True:
            try:
                done, _retried, died = messages.settle(name, entries, settled, reliable=reliable, via=via)
            except TRANSIENT as exc:
                self.resync.set()
                if self.stopping.is_set() and backoff.failures >= STOPPING_TRIES:
                    what = "they stay in flight for the reaper" if reliable else "they are LOST (brpop mode)"
                    log.error("%s could not store %s result(s) before stopping: %s", name, len(settled), what)
                    return
                delay = backoff.next()
                log.warning("%s storing %s result(s) failed (%s); retrying in %.2fs", name, len(settled), exc, delay)
                time.sleep(delay)
                continue
            if done < 0:
                # Reaped while alive, or a failover lost earlier settles (the new primary's list still
                # holds what was settled on the old one): the loop resyncs, so the messages run again.
                self.resync.set()
                log.warning("%s no longer holds %s message(s) at the head of its processing list; results not "
                            "stored, they run again", name, len(settled))
            else:
                self.state.processed += done
                if died:
                    log.warning("%s dead-lettered %s message(s) after %s attempts", name, died,
                                messages.settings.max_attempts)
            return
