"""A message's status record: one typed definition, read and written here, and its templates for the fast paths.

Records are JSON objects stored in the per-minute results hashes (`keys.results`) and, for dead
letters, in the dead letters' hash (`keys.dead_letters`), where they also hold the `envelope` to
requeue. Every field is a field of `Record`, in its order; every reader goes through
`Record.parse`, every writer through `Record.dump` or a template made by `template()` from the
same fields:

- the done record is written on every message's fast path: `DONE` is a %-format of it (the
  fastest way to build one: make bench worker);
- RECLAIM (Lua) writes the record of a message taken back from a dead worker, and of one that
  died with it: `reclaimed_template` and `dead_template` are string.format templates of them.

`attempts` counts the runs of the message that started: 0 while it waits for its first, 1 for a
message done at the first try, one more for each run that failed or was cut short (its worker
died), MAX_ATTEMPTS for a dead letter. A worker's log line says the same number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from shared.core.codec import STORED_DEPTH_MAX, dumps, loads
from shared.core.ids import id_time
from shared.messages.status import MessageStatus


@dataclass(frozen=True)
class Record:
    """What fila knows of one message: where it is, who ran it, how often, how long, and what came of it."""

    status: MessageStatus
    error: str | None = None
    worker: str | None = None
    attempts: int = 0
    enqueued_at: float | None = None
    finished_at: float | None = None
    ms: float | None = None
    result: Any = None
    #: A failed run's retry: when it is due (seconds since the epoch), after its backoff.
    next_attempt_at: float | None = None
    #: A dead letter's envelope, as it goes back on the queue when requeued.
    envelope: str | None = None
    #: While the message is scheduled: when it is due (read from the pending index, never stored).
    due_at: float | None = None

    @classmethod
    def parse(cls, raw: str | bytes) -> Record:
        """Read a stored record (fields it does not know are left out)."""
        data = loads(raw, STORED_DEPTH_MAX)
        if not isinstance(data, dict) or data.get("status") not in _STATUSES:
            raise ValueError("a record is a JSON object with a known status")
        known = {name: data[name] for name in _FIELDS if name in data}
        return cls(**{**known, "status": MessageStatus(known["status"])})

    @classmethod
    def queued(cls, message_id: str) -> Record:
        """Return the record of a message still waiting (nothing is stored for it: its id is pending)."""
        return cls(MessageStatus.QUEUED, enqueued_at=id_time(message_id))

    def dump(self) -> str:
        """Write the record as stored: its fields in order, those without a value left out."""
        return dumps({name: value for name, value in asdict(self).items() if value is not None and value != ""})

    def describe(self, message_id: str) -> dict[str, Any]:
        """Return the API's view of the message (GET /api/messages/<id>)."""
        finished, ms, enqueued = self.finished_at, self.ms, self.enqueued_at
        return {
            "id": message_id,
            "status": self.status.value,
            "result": self.result,
            "error": self.error,
            "worker": self.worker,
            "attempts": self.attempts,
            "enqueued_at": enqueued,
            "started_at": round(finished - ms / 1000, 6) if finished and ms is not None else None,
            "finished_at": finished,
            "ms": ms,
            "latency_ms": round((finished - enqueued) * 1000, 3) if finished and enqueued else None,
            "next_attempt_at": self.next_attempt_at,
            "due_at": self.due_at,
        }


_FIELDS = tuple(spec.name for spec in fields(Record))
_STATUSES = frozenset(status.value for status in MessageStatus)


def template(status: MessageStatus, **formats: str) -> str:
    """Return a record as a format template: `status` as given, each named field as its format, in Record's order.

    A format is the text that goes where the field's JSON goes: `%d`, `%.6f`, `%s` (a JSON value
    put in by the caller), or a JSON literal fixed now.
    """
    unknown = set(formats) - set(_FIELDS)
    if unknown:
        raise ValueError(f"not fields of a record: {sorted(unknown)}")
    parts = [f'"status":{dumps(status.value)}']
    parts += [f'"{name}":{formats[name]}' for name in _FIELDS if name in formats]
    return "{" + ",".join(parts) + "}"


def _literal(value: Any) -> str:
    """Encode a value as JSON for a %-template (a literal % doubled)."""
    return dumps(value).replace("%", "%%")


#: The done record (worker and result are JSON already; the rest numbers), as one %-format.
DONE = template(MessageStatus.DONE, worker="%s", attempts="%d", enqueued_at="%.6f", finished_at="%.6f", ms="%.3f",
                result="%s")


def done(worker_json: str, attempts: int, enqueued_at: float, finished_at: float, ms: float,
         result_json: str) -> str:
    """Build the record of a message its handler processed (`worker_json` and `result_json` are JSON)."""
    return DONE % (worker_json, attempts, enqueued_at, finished_at, ms, result_json)


def failed(status: MessageStatus, error: str, worker: str, attempts: int, enqueued_at: float, finished_at: float,
           ms: float, envelope: str | None = None, next_attempt_at: float | None = None) -> str:
    """Build the record of a run that raised: back to `queued` for a retry (due then), or `dead` (with its envelope)."""
    return Record(status, error=error, worker=worker, attempts=attempts, enqueued_at=enqueued_at,
                  finished_at=finished_at, ms=round(ms, 3), next_attempt_at=next_attempt_at, envelope=envelope).dump()


def reclaimed_template(error: str, finished_at: float) -> str:
    """Return the record RECLAIM writes for a dead worker's message it puts back: a template of `%d` (the attempts)."""
    return template(MessageStatus.QUEUED, error=_literal(error), attempts="%d", finished_at=f"{finished_at:.6f}")


def dead_template(error: str, finished_at: float) -> str:
    """Return the dead letter RECLAIM writes when a dead worker's message has no attempts left.

    A template of `%d` (the attempts) and `%s` (the envelope, encoded as a JSON string).
    """
    return template(MessageStatus.DEAD, error=_literal(error), attempts="%d", finished_at=f"{finished_at:.6f}",
                    envelope="%s")
