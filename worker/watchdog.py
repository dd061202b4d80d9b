"""The watchdog: take back the message of a handler past its timeout; restart a worker that stays stuck.

Python cannot stop a thread, and a handler may hang anywhere (a socket without a timeout, a lock,
an endless loop). So, past the message's `timeout_ms` (HANDLER_TIMEOUT_MS by default), the
watchdog's thread takes the message back (lua/abandon.lua: retried after its backoff, or a dead
letter, with the error `timeout`) and gives the rest of the worker's batch back to the queue: the
message is not held by a hung worker. The worker shows as `stuck` in /api/workers meanwhile. If the
handler returns within RESTART_AFTER seconds, its late result is dropped and the worker goes on; if
it does not, the worker re-executes itself (`os.execv`: a fresh process with the same PID and name,
so under `make run`, compose or Kubernetes nothing has to restart it and SIGTERM still reaches it).
Asked to stop while stuck, it exits at once: it holds nothing.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable

from shared.messages import failure
from shared.messages.envelope import decode
from shared.messages.queue import MessageQueue
from worker.periodic import Periodic
from worker.state import WorkerState

log = logging.getLogger(__name__)

#: Seconds between looks at the run in progress.
WATCH_INTERVAL = 0.1
#: Seconds a handler may stay stuck after its message was taken back before the worker restarts itself.
RESTART_AFTER = 5.0
#: The error a taken-back message records.
TIMEOUT_ERROR = "timeout"


def restart() -> None:
    """Replace this process by a fresh run of the same command (same PID: the worker keeps its name)."""
    logging.shutdown()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


class Watchdog(Periodic):
    """Every WATCH_INTERVAL, check the run in progress against its deadline."""

    def __init__(self, state: WorkerState, queues: dict[str, MessageQueue], stopping: threading.Event,
                 beat: Callable[[], None] | None = None, on_stuck: Callable[[], None] = restart):
        super().__init__(f"watchdog-{state.name}", WATCH_INTERVAL)
        self.state = state
        #: The served queues, by name (a run names its queue).
        self.queues = queues
        self.stopping = stopping
        #: Publish the worker's state now (its heartbeat's beat): `stuck` shows at once, not at the next beat.
        self.beat = beat
        self.on_stuck = on_stuck
        #: The run whose message was taken back (its id and start), while its handler has not returned.
        self.abandoned: tuple[str, float] | None = None

    def tick(self) -> None:
        """Take back a message past its deadline; restart when its handler is still stuck RESTART_AFTER later."""
        running, now = self.state.running, time.time()
        if running is None:
            return
        if self.abandoned is not None:
            if self.abandoned != (running.id, running.since):
                return
            if self.stopping.is_set():  # asked to stop, its handler hung: nothing is held any more
                log.warning("%s stops while stuck in %s (its message was taken back)", self.state.name, running.id)
                logging.shutdown()
                os._exit(0)
            if self.state.stuck_since is not None and now - self.state.stuck_since > RESTART_AFTER:
                log.error("%s still stuck in %s %.1fs after its deadline: restarting the worker", self.state.name,
                          running.id, now - self.state.stuck_since)
                self.on_stuck()
            return
        if running.deadline is None or now < running.deadline:
            return
        envelope = decode(running.entry, now)
        ms = (now - running.since) * 1000
        queue = self.queues.get(running.queue) or next(iter(self.queues.values()))
        settled, wait_ms = failure.route(envelope, TIMEOUT_ERROR, self.state.name, ms, queue.settings, now)
        taken = queue.abandon(self.state.name, settled, reliable=self.state.reliable)
        self.abandoned = (running.id, running.since)
        self.state.stuck_since = running.deadline
        if self.beat is not None:
            self.beat()
        if taken:
            log.warning("%s %s timed out after %.0fms attempts=%s -> %s; the rest of its batch went back to the "
                        "queue", self.state.name, running.id, ms, envelope.attempts + 1,
                        "dead letter" if wait_ms < 0 else f"retry in {wait_ms} ms")
        else:
            log.warning("%s %s timed out after %.0fms, but it was settled meanwhile", self.state.name, running.id, ms)

    def taken_back(self) -> bool:
        """Tell whether the run that just ended had its message taken back (its batch is to be dropped); forget it."""
        if self.abandoned is None:
            return False
        self.abandoned = None
        self.state.stuck_since = None
        return True
