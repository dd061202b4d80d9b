"""A message's status record: built here (or from a template made here, in Lua), read back here.

Records are JSON objects stored in the per-minute results hashes (`shared.keys.results`):

    {"status", "worker", "attempts", "enqueued_at", "finished_at", "ms", "result" | "error"}

`attempts` counts the runs of the message that did not succeed (failed, or cut short when its
worker died): 0 for a message done at the first try, MAX_ATTEMPTS for a dead letter.
A done record is written on every message's fast path, so it is one f-string around the
result's JSON; failures are rarer and go through the codec.
"""

from __future__ import annotations

from typing import Any

from shared.codec import dumps, loads
from shared.ids import id_time
from shared.status import MessageStatus


def done(worker_json: str, attempts: int, enqueued_at: float, finished_at: float, ms: float,
         result_json: str) -> str:
    """Build the record of a message its handler processed (`worker_json` and `result_json` are JSON)."""
    return (f'{{"status":"done","worker":{worker_json},"attempts":{attempts},"enqueued_at":{enqueued_at:.6f},'
            f'"finished_at":{finished_at:.6f},"ms":{ms:.3f},"result":{result_json}}}')


def failed(status: MessageStatus, error: str, worker: str, attempts: int, enqueued_at: float, finished_at: float,
           ms: float) -> str:
    """Build the record of a run that raised: back to `queued` for a retry, or `dead`."""
    return dumps({"status": status.value, "error": error, "worker": worker, "attempts": attempts,
                  "enqueued_at": enqueued_at, "finished_at": finished_at, "ms": round(ms, 3)})


def reclaimed_template(error: str, finished_at: float) -> str:
    """Return the record of a message taken back from a dead worker, as a `string.format` template.

    The RECLAIM script fills in `%s` (the status, queued or dead) and `%d` (the attempts).
    """
    error_json = dumps(error).replace("%", "%%")
    return f'{{"status":"%s","error":{error_json},"attempts":%d,"finished_at":{finished_at:.6f}}}'


def reclaimed(status: MessageStatus, attempts: int, error: str, finished_at: float) -> str:
    """Build the record RECLAIM writes (the same template, filled in by Python)."""
    return reclaimed_template(error, finished_at) % (status.value, attempts)


def queued(message_id: str) -> dict[str, Any]:
    """Return the record of a message still waiting (nothing is stored for it: its id is pending)."""
    return {"status": MessageStatus.QUEUED.value, "attempts": 0, "enqueued_at": id_time(message_id)}


def parse(raw: str | bytes) -> dict[str, Any]:
    """Read a stored record."""
    data = loads(raw)
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
