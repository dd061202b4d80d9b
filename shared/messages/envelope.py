"""The JSON envelope a message travels in on the queue list.

The layout is fixed, `{"id":...,"attempts":N,"enqueued_at":T,"body":...}`, so that the Lua
scripts can read the id and bump the attempts without re-encoding the body. The pieces below
are the one definition of that layout: `shared.messages.lua` hands them to the scripts. A
message sent with options (its own `max_attempts`, `retry_base_ms`, `ttl_ms`) carries them in an
`"opts"` object between `enqueued_at` and `body` (shared/messages/schedule.py); when tracing is
on (shared/core/otel.py), the span that sent it rides as `"trace":"<W3C traceparent>"` just before
`body` (`"trace":"-"` when its trace is not kept). The head the scripts read is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from shared.core.codec import STORED_DEPTH_MAX, loads
from shared.core.ids import new_id

HEAD = '{"id":"'
ATTEMPTS = '","attempts":'
ENQUEUED_AT = ',"enqueued_at":'
OPTS = ',"opts":'
#: The option a requeued dead letter loses (it was dead for having waited too long: now it runs).
TTL_OPTION = "ttl_ms"
#: The option that puts a message ahead of (`high`) or behind (`low`) the queue's others.
PRIORITY_OPTION = "priority"
#: The W3C `traceparent` of the span that sent the message (only when tracing is on).
TRACE = ',"trace":"'
BODY = ',"body":'
_DIGITS = frozenset("0123456789")


class Envelope(NamedTuple):
    """One message as a worker sees it."""

    id: str
    body: Any
    enqueued_at: float
    attempts: int
    raw: str
    wrapped: bool = False
    #: The message's own options (`max_attempts`, `retry_base_ms`, `ttl_ms`), when it was sent with any.
    opts: dict[str, int] | None = None
    #: The W3C `traceparent` of the span that sent it ("": none, tracing was off; "-": its trace is not kept).
    trace: str = ""


def encode(message_id: str, body_json: str, enqueued_at: float, attempts: int = 0, opts_json: str = "",
           trace: str = "") -> str:
    """Render an envelope: `body_json` is the body already encoded as JSON.

    `opts_json` is its options (or ""), `trace` the `traceparent` of the span that sent it (or "").
    """
    opts = f"{OPTS}{opts_json}" if opts_json else ""
    if trace:
        opts = f'{opts}{TRACE}{trace}"'
    return f"{HEAD}{message_id}{ATTEMPTS}{attempts}{ENQUEUED_AT}{enqueued_at:.6f}{opts}{BODY}{body_json}}}"


def envelope_id(raw: str) -> str | None:
    """Return the id of an envelope (read from its fixed head), or None for a raw entry."""
    if raw.startswith(HEAD):
        end = raw.find('"', len(HEAD))
        digit = end + len(ATTEMPTS)
        if end > 0 and raw.startswith(ATTEMPTS, end) and raw[digit:digit + 1] in _DIGITS:
            return raw[len(HEAD):end]
    return None


#: Characters of a body a log line shows.
EXCERPT_CHARS = 60
#: What could break a log line or fake one: control characters and Unicode's line separators.
_LOG_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(32), 127, 0x85)} | {0x2028: "\\u2028",
                                                                                0x2029: "\\u2029"}


def excerpt(envelope: Envelope) -> str:
    """Return the start of a message's body for a log line: its JSON (a raw entry quoted), escaped, shortened."""
    raw = envelope.raw
    if envelope.wrapped:
        piece = raw[:EXCERPT_CHARS + 1]
        cut = len(piece) > EXCERPT_CHARS
        text = '"' + piece[:EXCERPT_CHARS].replace('"', '\\"') + '"'
    else:
        start = raw.find(BODY, len(HEAD)) + len(BODY)
        piece = raw[start:start + EXCERPT_CHARS + 2]  # the body, then the envelope's closing brace
        cut = len(piece) > EXCERPT_CHARS + 1
        text = piece[:EXCERPT_CHARS] if cut else piece[:-1]
    if not text.isprintable():  # control characters, line separators: escaped (the usual text skips this)
        text = text.translate(_LOG_ESCAPES)
    return text + "…" if cut else text


def decode(raw: str, now: float, fresh_id: Callable[[], str] | None = None) -> Envelope:
    """Read a queue entry; an entry that is not an envelope (a raw LPUSH) is wrapped as a body.

    The wrapped entry gets its id from `fresh_id` (a worker draws a batch's ids at once: a new id
    alone costs a system call), or a new one.
    """
    if raw.startswith(HEAD):
        try:
            data = loads(raw, STORED_DEPTH_MAX)
            opts, trace = data.get("opts"), data.get("trace")
            return Envelope(data["id"], data["body"], float(data["enqueued_at"]), int(data["attempts"]), raw,
                            opts=opts if isinstance(opts, dict) else None,
                            trace=trace if isinstance(trace, str) else "")
        except (ValueError, KeyError, TypeError):
            pass
    return Envelope(fresh_id() if fresh_id else new_id(now), _text(raw), now, 0, raw, wrapped=True)


def _text(raw: str) -> str:
    """Return a raw entry as text: bytes that were not UTF-8 (read with surrogateescape) become U+FFFD."""
    if raw.isascii():
        return raw
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return raw
