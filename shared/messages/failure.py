"""Where a failed run goes: back after its backoff, or to the dead letters (the consumer's and the watchdog's rule)."""

from __future__ import annotations

from shared.core.codec import dumps
from shared.core.settings import Settings
from shared.messages import record, triage
from shared.messages.envelope import Envelope, encode
from shared.messages.queue import Settled
from shared.messages.schedule import attempts_allowed, backoff_ms, retry_base
from shared.messages.status import MessageStatus, Outcome


def route(envelope: Envelope, error: str, worker: str, ms: float, settings: Settings,
          now: float) -> tuple[Settled, int]:
    """Route a failed run: a retry due after its backoff, or a dead letter; return it and the wait (ms; -1: dead).

    The envelope goes back with this run counted and its options (and its trace) kept.
    """
    attempts = envelope.attempts + 1
    started = now - ms / 1000
    again = encode(envelope.id, dumps(envelope.body), envelope.enqueued_at, attempts,
                   opts_json=dumps(envelope.opts) if envelope.opts else "", trace=envelope.trace)
    if attempts >= attempts_allowed(envelope, settings):
        dead = record.failed(MessageStatus.DEAD, error, worker, attempts, envelope.enqueued_at, now, ms,
                             envelope=again)
        return dead_letter(envelope.id, Outcome.DEAD, dead, again, settings, error)._replace(
            attempt=attempts, started=started, ms=ms, error=error), -1
    wait_ms = backoff_ms(attempts, retry_base(envelope, settings), settings.retry_max_ms)
    due_ms = int(now * 1000) + wait_ms if wait_ms else 0
    retry = record.failed(MessageStatus.QUEUED, error, worker, attempts, envelope.enqueued_at, now, ms,
                          next_attempt_at=due_ms / 1000 if due_ms else None)
    return Settled(envelope.id, Outcome.RETRY, retry, again, due_ms, attempt=attempts, started=started, ms=ms,
                   error=error), wait_ms


def dead_letter(message_id: str, outcome: Outcome, dead: str, envelope: str, settings: Settings,
                error: str) -> Settled:
    """Return a dead letter's Settled, filed under its error's group (shared/messages/triage.py)."""
    group, signature = triage.filing(settings.queue_name, error)
    return Settled(message_id, outcome, dead, envelope, group=group, signature=signature)
