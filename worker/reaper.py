"""The reaper: give the messages of dead workers (heartbeat expired) back to the queue, one reaper at a time."""

from __future__ import annotations

import logging
import time

import redis

from shared.core import keys
from shared.messages.queue import MessageQueue
from worker.heartbeat import interval
from worker.periodic import Periodic
from worker.state import WorkerState

log = logging.getLogger(__name__)


class Reaper(Periodic):
    """Every HEARTBEAT_TTL / 3, reclaim what dead workers held (at most one reaper a round across all workers)."""

    def __init__(self, connection: redis.Redis, state: WorkerState, queues: list[MessageQueue]):
        super().__init__(f"reaper-{state.name}", interval(state.settings.heartbeat_ttl))
        self.redis = connection
        self.state = state
        #: Every named queue: a dead worker may have held messages of any of them.
        self.queues = queues
        #: Since when this reaper has reached Redis without a break (monotonic); None after a failure.
        self.connected_since: float | None = None

    def tick(self) -> None:
        """Reap."""
        self.reap()

    def on_failure(self) -> None:
        """Redis failed: reap again only once it has answered for a whole heartbeat TTL."""
        self.connected_since = None

    def reap(self) -> int:
        """Reclaim the messages of workers whose heartbeat expired; return how many workers were reaped.

        Only a reaper that has reached Redis for a whole heartbeat TTL reaps, so that after a
        Redis restart every live worker has had the time to beat again first. The lock lives one
        interval: one reaper per round across all workers.
        """
        self.redis.ping()
        now = time.monotonic()
        if self.connected_since is None:
            self.connected_since = now
        if now - self.connected_since < self.state.settings.heartbeat_ttl:
            return 0
        if not self.redis.set(keys.REAPER_LOCK, self.state.name, nx=True, px=int(self.interval * 1000)):
            return 0
        names = [str(n) for n in self.redis.smembers(keys.WORKERS) if n != self.state.name]
        if not names:
            return 0
        with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.exists(keys.heartbeat(name))
                pipe.hget(keys.worker(name), "queue")
            replies = pipe.execute()
        known = {queue.name for queue in self.queues}
        reaped = left = 0
        for name, is_alive, served in zip(names, replies[::2], replies[1::2], strict=True):
            if is_alive:
                continue
            foreign = set(str(served or "").split(",")) - known - {""}
            if foreign:  # a worker of another deployment's queues (fila prove's): a reaper that knows them reaps it
                log.debug("%s leaves dead worker %s to a reaper of %s", self.state.name, name, ", ".join(foreign))
                left += 1
                continue
            requeued = died = 0
            for queue in self.queues:
                back, dead = queue.reclaim(name, f"worker {name} died while processing", by=self.state.name)
                requeued, died = requeued + back, died + dead
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(keys.worker(name))
                pipe.srem(keys.WORKERS, name)
                pipe.execute()
            reaped += 1
            log.warning("%s reaped dead worker %s: %s message(s) requeued, %s dead-lettered",
                        self.state.name, name, requeued, died)
        if left and self.redis.get(keys.REAPER_LOCK) == self.state.name:
            # Holding the lock a whole round would keep the reaper that knows their queues waiting (perhaps
            # for ever, when this one takes it again each time it expires): let it have the next round.
            self.redis.delete(keys.REAPER_LOCK)
        return reaped
