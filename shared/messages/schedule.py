"""When a message runs: its delay, the backoff before each retry, its expiry, and the options a message carries.

A delayed message, and a failed one waiting for its retry, sit in the queue's scheduled set
(`keys.scheduled`, scored by when each is due); any worker's promoter moves the due ones onto the
queue list, a few hundred at a time (lua/promote.lua). The options a producer gives one message
(`max_attempts`, `retry_base_ms`, `ttl_ms`) travel in its envelope's `"opts"`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from shared.core.codec import dumps
from shared.core.settings import Settings
from shared.messages.envelope import Envelope

#: The options an envelope may carry (a delayed message's `due_ms` too: its expiry counts from then).
CARRIED = ("due_ms", "max_attempts", "retry_base_ms", "timeout_ms", "ttl_ms", "priority")
#: Due messages moved onto the queue in one step: one short Lua call (0.7 ms at 1M scheduled; 500 took 3.5).
PROMOTE_STEP = 200
#: The longest `timeout_ms` a message or a job may ask for (a day).
TIMEOUT_MS_MAX = 86_400_000
#: The exponent stops growing here: 2^40 times any base is past every RETRY_MAX_MS.
_EXPONENT_MAX = 40


@dataclass(frozen=True)
class Options:
    """What a producer asked of one message: when it may run, how long it may wait, how often it is tried."""

    #: When it becomes due (ms since the epoch); None: at once.
    due_ms: int | None = None
    #: Not run at all once it has waited this long since it was due (a dead letter, "expired").
    ttl_ms: int | None = None
    max_attempts: int | None = None
    retry_base_ms: int | None = None
    #: The longest its handler may run (HANDLER_TIMEOUT_MS otherwise).
    timeout_ms: int | None = None
    #: `high` (served before the queue's other messages) or `low` (after them); None: normal.
    priority: str | None = None

    def carried(self) -> str:
        """Return the options the envelope carries, as JSON ("" when there is none)."""
        given = {name: getattr(self, name) for name in CARRIED if getattr(self, name) is not None}
        return dumps(given) if given else ""


def backoff_ms(failed: int, base_ms: int, max_ms: int, draw: Callable[[], float] = random.random) -> int:
    """Return how long to wait after `failed` failed runs: min(max, base * 2^(failed-1)) times a draw in [0, 1)."""
    if base_ms <= 0 or failed <= 0:
        return 0
    ceiling = min(max_ms, base_ms * 2 ** min(failed - 1, _EXPONENT_MAX))
    return int(ceiling * draw())


def attempts_allowed(envelope: Envelope, settings: Settings) -> int:
    """Return how many runs the message may have: its own `max_attempts`, or MAX_ATTEMPTS."""
    own = (envelope.opts or {}).get("max_attempts")
    return own if isinstance(own, int) and own > 0 else settings.max_attempts


def retry_base(envelope: Envelope, settings: Settings) -> int:
    """Return the message's own `retry_base_ms`, or RETRY_BASE_MS."""
    own = (envelope.opts or {}).get("retry_base_ms")
    return own if isinstance(own, int) and own >= 0 else settings.retry_base_ms


def expired(envelope: Envelope, now: float) -> bool:
    """Tell whether the message, never started, waited longer than its `ttl_ms` since it was due (not run then)."""
    opts = envelope.opts or {}
    ttl = opts.get("ttl_ms")
    if not isinstance(ttl, int) or envelope.attempts > 0:
        return False
    due = opts.get("due_ms")
    since = due if isinstance(due, int) else envelope.enqueued_at * 1000
    return now * 1000 - since > ttl


def timeout_of(envelope: Envelope, settings: Settings) -> int:
    """Return how long (ms) the message's handler may run: its own `timeout_ms`, or HANDLER_TIMEOUT_MS (0: no limit)."""
    own = (envelope.opts or {}).get("timeout_ms")
    return own if isinstance(own, int) and own > 0 else settings.handler_timeout_ms

