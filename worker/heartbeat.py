"""A worker's heartbeat, and the reaper that gives dead workers' messages back to the queue."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from shared import keys
from shared.connection import UNAVAILABLE
from shared.queue import MessageQueue
from shared.settings import Settings
from shared.timings import Timings

log = logging.getLogger(__name__)


class Heartbeat(threading.Thread):
    """Refresh this worker's heartbeat hash (with a TTL) and, one worker at a time, reap dead ones."""

    def __init__(self, connection: redis.Redis, settings: Settings, name: str, info: dict[str, str],
                 current: Callable[[], str | None], timings: Timings):
        super().__init__(name=f"heartbeat-{name}", daemon=True)
        self.redis = connection
        self.settings = settings
        self.worker = name
        self.info = info
        self.current = current
        self.timings = timings
        self.queue = MessageQueue(connection, settings)
        self.interval = max(0.05, settings.heartbeat_ttl / 3)
        self.connected_since: float | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        """Beat and reap every interval until stopped."""
        while not self._halt.wait(self.interval):
            try:
                self.beat()
                self.reap()
            except UNAVAILABLE as exc:
                if self.connected_since is not None:
                    log.warning("%s heartbeat: redis unavailable (%s)", self.worker, exc)
                self.connected_since = None
            except Exception:
                log.exception("%s heartbeat failed", self.worker)

    def stop(self) -> None:
        """Stop beating (the caller deregisters)."""
        self._halt.set()
        self.join(timeout=self.interval + self.settings.redis_socket_timeout * 2)

    def beat(self) -> None:
        """Write the heartbeat hash with a TTL, (re)register the worker, add its timings to the histogram."""
        now = time.time()
        ttl_ms = int(self.settings.heartbeat_ttl * 1000)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.worker(self.worker),
                      mapping={**self.info, "heartbeat_at": f"{now:.3f}", "current": self.current() or ""})
            pipe.pexpire(keys.worker(self.worker), ttl_ms)
            pipe.sadd(keys.WORKERS, self.worker)
            pipe.execute()
        if self.connected_since is None:
            self.connected_since = time.monotonic()
        self.timings.flush(self.redis, self.settings.queue)

    def reap(self) -> int:
        """Reclaim the messages of workers whose heartbeat expired; return how many workers were reaped.

        Only a worker that has been connected for a whole heartbeat TTL reaps, so that after a
        Redis restart every live worker has had the time to beat again first.
        """
        if self.connected_since is None or time.monotonic() - self.connected_since < self.settings.heartbeat_ttl:
            return 0
        if not self.redis.set(keys.REAPER_LOCK, self.worker, nx=True, px=int(self.interval * 1000)):
            return 0
        names = [n for n in self.redis.smembers(keys.WORKERS) if n != self.worker]
        if not names:
            return 0
        with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.exists(keys.worker(name))
            alive = pipe.execute()
        reaped = 0
        for name, is_alive in zip(names, alive, strict=True):
            if is_alive:
                continue
            requeued, died = self.queue.reclaim(name, f"worker {name} died while processing")
            self.redis.srem(keys.WORKERS, name)
            reaped += 1
            log.warning("%s reaped dead worker %s: %s message(s) requeued, %s dead-lettered",
                        self.worker, name, requeued, died)
        return reaped

    def deregister(self) -> None:
        """Leave the registry on a clean stop (only when nothing is left in flight)."""
        self.timings.flush(self.redis, self.settings.queue)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(keys.worker(self.worker))
            pipe.llen(keys.processing(self.worker))
            _, in_flight = pipe.execute()
        if in_flight == 0:
            self.redis.srem(keys.WORKERS, self.worker)
        else:
            log.warning("%s stops with %s message(s) in flight; a reaper will requeue them", self.worker, in_flight)
