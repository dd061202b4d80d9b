"""Wait for a condition with a deadline instead of sleeping; read what a test may assert on."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, message: str = "") -> T:
    """Call `condition` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # keep polling; report the last error
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message or condition}: last error {last_error!r}")


def user_keys(client) -> list[str]:
    """Return the keys a user wrote (fila's own bookkeeping, such as rate-limit counters, left out)."""
    return sorted(key for key in client.scan_iter(count=1000) if not key.startswith("fila:"))
