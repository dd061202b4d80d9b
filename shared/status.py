"""The states a message goes through."""

from enum import StrEnum


class MessageStatus(StrEnum):
    """Where a message is: queued, being processed, done, failed for now, or dead-lettered."""

    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    DEAD = "dead"


class Outcome(StrEnum):
    """What one run of the handler gave."""

    OK = "ok"
    ERROR = "err"
