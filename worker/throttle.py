"""The queue's rate limit (QUEUE_RATE_LIMIT): tokens from one bucket in Redis every worker shares."""

from __future__ import annotations

import threading

import redis

from shared.core import keys
from shared.core.settings import Settings
from shared.messages import lua

#: The bucket holds this many seconds of the rate: a burst after a quiet moment stays this short.
BURST_SECONDS = 0.1


class Throttle:
    """Hand out the tokens a batch needs, a round trip per batch; wait (stop-aware) when the bucket is empty."""

    def __init__(self, connection: redis.Redis, settings: Settings, stopping: threading.Event):
        self.rate = settings.queue_rate_limit
        self.burst = max(1.0, self.rate * BURST_SECONDS)
        self.keys = [keys.bucket(settings.queue_name), keys.stats(settings.queue_name)]
        self.stopping = stopping
        self._bucket = connection.register_script(lua.BUCKET)

    @property
    def batch_max(self) -> int:
        """Return the largest batch worth taking: what the bucket holds (more would wait in the worker's hands)."""
        return max(1, int(self.burst))

    def acquire(self, want: int) -> int:
        """Return how many of `want` messages may run now (at least one), after waiting for a token if needed."""
        while True:
            granted, wait_ms = self._bucket(keys=self.keys, args=[self.rate, self.burst, want])
            if granted or self.stopping.wait(int(wait_ms) / 1000):
                return max(1, int(granted))
