"""The states a message goes through."""

from enum import StrEnum


class MessageStatus(StrEnum):
    """Where a message is: queued (a retry included), being processed, done, or dead-lettered."""

    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    DEAD = "dead"


class Outcome(StrEnum):
    """What becomes of a message after one run: done, back on the queue, or dead-lettered."""

    OK = "ok"
    RETRY = "retry"
    DEAD = "dead"
