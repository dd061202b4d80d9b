"""A worker's heartbeat: a key with a TTL that says it is alive, and a hash that says what it is doing.

The hash outlives the heartbeat: a worker that dies without leaving shows as `lost`, with what it
held, until a reaper gives its messages back and removes it.
"""

from __future__ import annotations

import logging
import threading
import time

import redis

from shared.core import keys
from shared.core.connection import FULL, UNAVAILABLE
from shared.messages import lua
from shared.messages.timings import Timings
from worker.reaper import Reaper
from worker.state import WorkerState

log = logging.getLogger(__name__)


class Heartbeat(threading.Thread):
    """Refresh this worker's heartbeat hash (with a TTL), flush its timings, and let its reaper run."""

    def __init__(self, connection: redis.Redis, state: WorkerState, timings: Timings, reaper: Reaper):
        super().__init__(name=f"heartbeat-{state.name}", daemon=True)
        self.redis = connection
        self.state = state
        self.timings = timings
        self.reaper = reaper
        self.settings = state.settings
        self._halt = threading.Event()
        self._beat = connection.register_script(lua.BEAT)
        self._full_since: float | None = None

    def run(self) -> None:
        """Beat and reap every interval until stopped."""
        while not self._halt.wait(self.reaper.interval):
            try:
                self.beat()
                self.reaper.reap()
            except UNAVAILABLE as exc:
                if self.reaper.connected_since is not None:
                    log.warning("%s heartbeat: redis unavailable (%s)", self.state.name, exc)
                self.reaper.connected_since = None
            except FULL as exc:
                if self._full_since is None:
                    self._full_since = time.monotonic()
                    log.warning("%s heartbeat: redis is full (%s); beating on, the histogram waits", self.state.name,
                                exc)
            except Exception:
                log.exception("%s heartbeat failed", self.state.name)

    def stop(self) -> None:
        """Stop beating (the caller deregisters)."""
        self._halt.set()
        self.join(timeout=self.reaper.interval + self.settings.redis_socket_timeout * 2)

    def beat(self) -> None:
        """Refresh the heartbeat (a TTL), the worker's hash and its registration; add its timings to the histogram."""
        now = time.time()
        name = self.state.name
        pulse = {**self.state.identity(), "heartbeat_at": f"{now:.3f}", "current": self.state.current or ""}
        self._beat(keys=[keys.heartbeat(name), keys.worker(name), keys.WORKERS],
                   args=[int(self.settings.heartbeat_ttl * 1000), f"{now:.3f}", name,
                         *(item for pair in pulse.items() for item in pair)])
        if self.reaper.connected_since is None:
            self.reaper.connected_since = time.monotonic()
        self.timings.flush(self.redis, self.settings.queue_name)
        if self._full_since is not None:
            log.info("%s heartbeat: redis has room again", name)
            self._full_since = None

    def deregister(self) -> None:
        """Leave the registry on a clean stop; with messages still in flight, stop beating so a reaper takes them."""
        name = self.state.name
        self.timings.flush(self.redis, self.settings.queue_name)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(keys.heartbeat(name))
            pipe.llen(keys.processing(name))
            _, in_flight = pipe.execute()
        if in_flight == 0:
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(keys.worker(name))
                pipe.srem(keys.WORKERS, name)
                pipe.execute()
        else:
            log.warning("%s stops with %s message(s) in flight; a reaper will requeue them", name, in_flight)
