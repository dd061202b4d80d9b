"""The JSON envelope a message travels in on the queue list.

The layout is fixed, `{"id":...,"attempts":N,"enqueued_at":T,"body":...}`, so that the
Lua scripts can read the id and bump the attempts without re-encoding the body.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from shared.codec import dumps, loads
from shared.ids import new_id

_HEAD = '{"id":"'


class Envelope(NamedTuple):
    """One message as a worker sees it."""

    id: str
    body: Any
    enqueued_at: float
    attempts: int
    raw: str
    wrapped: bool = False

    @property
    def text(self) -> str:
        """Return the body as text (strings as they are, anything else as JSON)."""
        return self.body if isinstance(self.body, str) else dumps(self.body)


def encode(message_id: str, body_json: str, enqueued_at: float, attempts: int = 0) -> str:
    """Render an envelope; `body_json` is the body already encoded as JSON."""
    return f'{_HEAD}{message_id}","attempts":{attempts},"enqueued_at":{enqueued_at:.6f},"body":{body_json}}}'


def envelope_id(raw: str) -> str | None:
    """Return the id of an envelope (read from its fixed head), or None for a raw entry."""
    if raw.startswith(_HEAD):
        end = raw.find('"', len(_HEAD))
        if end > 0 and raw.startswith('","attempts":', end):
            return raw[len(_HEAD):end]
    return None


def decode(raw: str, now: float) -> Envelope:
    """Read a queue entry; an entry that is not an envelope (a raw LPUSH) is wrapped as a body."""
    if raw.startswith(_HEAD):
        try:
            data = loads(raw)
            return Envelope(data["id"], data["body"], float(data["enqueued_at"]), int(data["attempts"]), raw)
        except (ValueError, KeyError, TypeError):
            pass
    return Envelope(new_id(now), raw, now, 0, raw, wrapped=True)
