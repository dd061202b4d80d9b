"""Exponential backoff with jitter for reconnecting to Redis."""

from __future__ import annotations

import random


class Backoff:
    """Delays that double from `base` up to `cap`, with full jitter; `reset()` after a success."""

    def __init__(self, base: float = 0.05, cap: float = 2.0):
        self.base, self.cap, self.failures = base, cap, 0

    def next(self) -> float:
        """Return how long to wait before the next try."""
        self.failures += 1
        return random.uniform(self.base, min(self.cap, self.base * 2 ** self.failures))

    def reset(self) -> None:
        """Forget past failures."""
        self.failures = 0
