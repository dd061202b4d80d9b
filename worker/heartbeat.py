"""A worker's heartbeat: a key with a TTL that says it is alive, a hash that says what it is doing, and its timings.

The hash outlives the heartbeat: a worker that dies without leaving shows as `lost`, with what it
held, until a reaper gives its messages back and removes it.
"""

from __future__ import annotations

import logging
import time

import redis

from shared.core import keys
from shared.messages import lua
from shared.messages.queue import MessageQueue
from shared.messages.timings import Timings
from worker.periodic import Periodic
from worker.state import WorkerState

log = logging.getLogger(__name__)


class Heartbeat(Periodic):
    """Every HEARTBEAT_TTL / 3: refresh the heartbeat (a TTL), the worker's hash and registration; add its timings."""

    def __init__(self, connection: redis.Redis, state: WorkerState, timings: dict[str, Timings],
                 queues: list[MessageQueue]):
        super().__init__(f"heartbeat-{state.name}", interval(state.settings.heartbeat_ttl))
        self.redis = connection
        self.state = state
        #: Each served queue's handler timings, by queue.
        self.timings = timings
        self.queues = queues
        self.settings = state.settings
        self._beat = connection.register_script(lua.BEAT)

    def tick(self) -> None:
        """Beat."""
        self.beat()

    def beat(self) -> None:
        """Refresh the heartbeat, the worker's hash and its registration; add its timings to the histogram.

        BEAT goes through when Redis is full (see shared/messages/lua/beat.lua); the histogram
        waits for room, its counts kept.
        """
        self._pulse()
        self._flush()

    def _pulse(self) -> None:
        """Run BEAT: the heartbeat key, the worker's hash (what it runs, whether it is stuck), its registration."""
        now = time.time()
        name = self.state.name
        running, stuck = self.state.running, self.state.stuck_since
        pulse = {**self.state.identity(), "heartbeat_at": f"{now:.3f}", "current": self.state.current or "",
                 "current_since": f"{running.since:.3f}" if running else "",
                 "stuck_since": f"{stuck:.3f}" if stuck is not None else ""}
        self._beat(keys=[keys.heartbeat(name), keys.worker(name), keys.WORKERS],
                   args=[int(self.settings.heartbeat_ttl * 1000), f"{now:.3f}", name,
                         *(item for pair in pulse.items() for item in pair)])

    def _flush(self) -> None:
        """Add each queue's timings to its histogram."""
        for queue, timings in self.timings.items():
            timings.flush(self.redis, queue)

    def publish(self) -> None:
        """Refresh the heartbeat and the worker's hash only (the watchdog's thread: the timings stay the beat's)."""
        self._pulse()

    def deregister(self) -> None:
        """Leave the registry on a clean stop; with messages still in flight, stop beating so a reaper takes them."""
        name = self.state.name
        self._flush()
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(keys.heartbeat(name))
            for queue in self.queues:
                pipe.llen(queue.processing_of(name))
            in_flight = sum(pipe.execute()[1:])
        if in_flight == 0:
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(keys.worker(name))
                pipe.srem(keys.WORKERS, name)
                pipe.execute()
        else:
            log.warning("%s stops with %s message(s) in flight; a reaper will requeue them", name, in_flight)


def interval(heartbeat_ttl: float) -> float:
    """Return how often a worker beats (and reaps): three times per HEARTBEAT_TTL."""
    return max(0.05, heartbeat_ttl / 3)
