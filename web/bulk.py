"""Bulk load: the handout's `chave,valor` CSV in one request, under the same rules as /set."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import Blueprint, Response, jsonify, request

from shared.settings import Settings
from web.errors import refuse
from web.services import services
from web.validation import name_problem, value_problem

bp = Blueprint("bulk", __name__, url_prefix="/api")
log = logging.getLogger(__name__)

#: Pairs per MSET: one round trip each, small enough not to stall Redis.
CHUNK = 1000


@dataclass
class Parsed:
    """The good pairs of a CSV, and the reason each bad line was refused."""

    pairs: dict[str, str] = field(default_factory=dict)
    rejected: list[dict[str, object]] = field(default_factory=list)
    lines: int = 0


def _line_problem(key: str, value: str, settings: Settings) -> str | None:
    found = name_problem(key, settings, writing=True) or value_problem(value, settings)
    return found.reason if found else None


def parse_csv(text: str, settings: Settings) -> Parsed:
    """Read `chave,valor` lines (the value is the rest of the line, as `IFS=, read -r` does)."""
    parsed = Parsed()
    for number, line in enumerate(text.splitlines(), start=1):
        parsed.lines = number
        if not line.strip():
            continue
        key, comma, value = line.rstrip("\r").partition(",")
        problem = _line_problem(key, value, settings) if comma else "no comma: a line is chave,valor"
        if problem:
            parsed.rejected.append({"line": number, "error": problem})
        else:
            parsed.pairs[key] = value
    return parsed


@bp.post("/bulk")
def load() -> Response:
    """SET every good `chave,valor` line (MSET, pipelined); report bad lines by number."""
    raw = request.get_data(cache=False)
    if not raw.strip():
        refuse(400, "empty_body", "the request body is empty: send chave,valor lines (text/csv)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        refuse(400, "bad_encoding", "the CSV must be UTF-8")
    parsed = parse_csv(text, services().settings)
    items = list(parsed.pairs.items())
    with services().redis.pipeline(transaction=False) as pipe:
        for start in range(0, len(items), CHUNK):
            pipe.mset(dict(items[start:start + CHUNK]))
        pipe.execute()
    log.info("redis MSET %s key(s) from a CSV of %s line(s), %s rejected", len(items), parsed.lines,
             len(parsed.rejected))
    response = jsonify({"loaded": len(items), "lines": parsed.lines, "rejected": parsed.rejected})
    response.status_code = 200 if items or not parsed.rejected else 400
    return response
