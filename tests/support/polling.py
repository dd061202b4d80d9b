"""The one way tests wait: for a condition, with a deadline, instead of sleeping; and what a test may assert on."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, message: str = "",
             give_up: Callable[[], str | None] | None = None) -> T:
    """Call `condition` until it returns something truthy, or fail after `timeout` seconds.

    `give_up` is asked between tries: when it returns a reason (a process that died, say), the wait
    fails at once with it, rather than at the deadline.
    """
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # keep polling; report the last error
            last_error = exc
        reason = give_up() if give_up else None
        if reason:
            raise AssertionError(f"gave up waiting for {message or condition}: {reason}; last error {last_error!r}")
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message or condition}: last error {last_error!r}")


def answers(url: str, status: int | None = None) -> bool:
    """Tell whether `url` answers HTTP (with `status`, when given)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return status is None or reply.status == status
    except urllib.error.HTTPError as refused:
        return status is None or refused.code == status
    except OSError:
        return False


def wait_http(url: str, timeout: float = 20.0, status: int | None = None,
              give_up: Callable[[], str | None] | None = None) -> None:
    """Wait until `url` answers (with `status`, when given)."""
    wait_for(lambda: answers(url, status), timeout=timeout, interval=0.05, message=f"{url} to answer",
             give_up=give_up)


def user_keys(client) -> list[str]:
    """Return the keys a user wrote (fila's own bookkeeping, such as rate-limit counters, left out)."""
    return sorted(key for key in client.scan_iter(count=1000) if not key.startswith("fila:"))
