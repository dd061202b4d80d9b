"""Processing-time histogram: workers count in memory, add to Redis at each heartbeat."""

from __future__ import annotations

import threading
from bisect import bisect_left

import redis

from shared.core import keys

#: Upper bounds of the buckets, in milliseconds (the last bucket is +Inf).
BOUNDS_MS = (0.1, 0.5, 1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0)


class Timings:
    """Count handler durations per bucket; `flush` adds the counts to the queue's histogram hash."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.counts = [0] * (len(BOUNDS_MS) + 1)
        self.total_ms = 0.0

    def observe(self, ms: float) -> None:
        """Count one duration."""
        with self._lock:
            self.counts[bisect_left(BOUNDS_MS, ms)] += 1
            self.total_ms += ms

    def flush(self, connection: redis.Redis, queue: str) -> int:
        """Add what was counted since the last flush to Redis; return how many durations."""
        with self._lock:
            counts, total_ms = self.counts, self.total_ms
            self._reset()
        observed = sum(counts)
        if observed:
            key = keys.timings(queue)
            try:
                with connection.pipeline(transaction=True) as pipe:
                    for index, count in enumerate(counts):
                        if count:
                            pipe.hincrby(key, str(index), count)
                    pipe.hincrbyfloat(key, "sum_ms", total_ms)
                    pipe.hincrby(key, "count", observed)
                    pipe.execute()
            except redis.exceptions.RedisError:
                self._restore(counts, total_ms)  # added at the next flush: none is lost
                raise
        return observed

    def _restore(self, counts: list[int], total_ms: float) -> None:
        with self._lock:
            self.counts = [kept + again for kept, again in zip(self.counts, counts, strict=True)]
            self.total_ms += total_ms


def read(connection: redis.Redis, queue: str) -> tuple[list[tuple[str, int]], float, int]:
    """Return cumulative (le, count) buckets in seconds, the sum in seconds, and the count."""
    data = connection.hgetall(keys.timings(queue))
    running, buckets = 0, []
    for index, bound in enumerate((*BOUNDS_MS, float("inf"))):
        running += int(data.get(str(index), 0))
        buckets.append(("+Inf" if bound == float("inf") else repr(bound / 1000), running))
    return buckets, float(data.get("sum_ms", 0)) / 1000, int(data.get("count", 0))
