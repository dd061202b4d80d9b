"""A message's status record: built here (or from a template made here, in Lua), read back here.

Records are JSON objects stored in the per-minute results hashes (`shared.core.keys.results`):

    {"status", "worker", "attempts", "enqueued_at", "finished_at", "ms", "result" | "error"}

`attempts` counts the runs of the message that did not succeed (failed, or cut short when its
worker died): 0 for a message done at the first try, MAX_ATTEMPTS for a dead letter.
A dead letter's record (in the dead letters hash, not the results) also holds its `envelope`,
the text to put back on the queue when it is requeued.
A done record is written on every message's fast path, so it is one f-string around the
result's JSON; failures are rarer and go through the codec.
"""

from __future__ import annotations

from typing import Any

from shared.core.codec import STORED_DEPTH_MAX, dumps, loads
from shared.core.ids import id_time
from shared.messages.status import MessageStatus

#: The done record, as one %-format (the fastest way to build it: make bench worker).
_DONE = '{"status":"done","worker":%s,"attempts":%d,"enqueued_at":%.6f,"finished_at":%.6f,"ms":%.3f,"result":%s}'


def done(worker_json: str, attempts: int, enqueued_at: float, finished_at: float, ms: float,
         result_json: str) -> str:
    """Build the record of a message its handler processed (`worker_json` and `result_json` are JSON)."""
    return _DONE % (worker_json, attempts, enqueued_at, finished_at, ms, result_json)


def failed(status: MessageStatus, error: str, worker: str, attempts: int, enqueued_at: float, finished_at: float,
           ms: float, envelope: str | None = None) -> str:
    """Build the record of a run that raised: back to `queued` for a retry, or `dead` (with its envelope)."""
    data: dict[str, Any] = {"status": status.value, "error": error, "worker": worker, "attempts": attempts,
                            "enqueued_at": enqueued_at, "finished_at": finished_at, "ms": round(ms, 3)}
    if envelope is not None:
        data["envelope"] = envelope
    return dumps(data)


def reclaimed_template(error: str, finished_at: float) -> str:
    """Return the record of a message taken back from a dead worker, as a `string.format` template.

    The RECLAIM script fills in `%d` (the attempts).
    """
    return f'{{"status":"queued","error":{_json(error)},"attempts":%d,"finished_at":{finished_at:.6f}}}'


def dead_template(error: str, finished_at: float) -> str:
    """Return the dead letter RECLAIM writes when a dead worker's message has no attempts left, as a template.

    RECLAIM fills in `%d` (the attempts) and `%s` (the envelope, encoded as a JSON string).
    """
    return (f'{{"status":"dead","error":{_json(error)},"attempts":%d,"finished_at":{finished_at:.6f},'
            f'"envelope":%s}}')


def _json(text: str) -> str:
    """Encode text as JSON for a template (a literal % doubled)."""
    return dumps(text).replace("%", "%%")


def queued(message_id: str) -> dict[str, Any]:
    """Return the record of a message still waiting (nothing is stored for it: its id is pending)."""
    return {"status": MessageStatus.QUEUED.value, "attempts": 0, "enqueued_at": id_time(message_id)}


def envelope(data: dict[str, Any]) -> str | None:
    """Return a dead letter's envelope (None for any other record)."""
    value = data.get("envelope")
    return value if isinstance(value, str) else None


def parse(raw: str | bytes) -> dict[str, Any]:
    """Read a stored record."""
    data = loads(raw, STORED_DEPTH_MAX)
    if not isinstance(data, dict):
        raise ValueError("a record is a JSON object")
    return data


def describe(message_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Turn a record into the API's view of a message."""
    status, worker = data.get("status"), data.get("worker")
    enqueued, finished, ms = data.get("enqueued_at"), data.get("finished_at"), data.get("ms")
    return {
        "id": message_id,
        "status": status,
        "result": data.get("result"),
        "error": data.get("error"),
        "worker": worker,
        "attempts": data.get("attempts", 0),
        "enqueued_at": enqueued,
        "started_at": round(finished - ms / 1000, 6) if finished and ms is not None else None,
        "finished_at": finished,
        "ms": ms,
        "latency_ms": round((finished - enqueued) * 1000, 3) if finished and enqueued else None,
    }
