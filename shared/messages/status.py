"""The states a message goes through."""

from enum import StrEnum


class MessageStatus(StrEnum):
    """Where a message is: scheduled (delayed, or a retry waiting its backoff), queued, being processed, done,
    or dead-lettered."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    DEAD = "dead"


class Outcome(StrEnum):
    """What becomes of a message after one run: done, back on the queue, or dead-lettered."""

    OK = "ok"
    RETRY = "retry"
    DEAD = "dead"
    #: Not run: it waited longer than its `ttl_ms` (a dead letter, error "expired").
    EXPIRED = "expired"
