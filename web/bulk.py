"""Bulk load: the handout's `chave,valor` CSV in one request, under the same rules as /set.

The body is read twice, a line at a time, and nothing per line is kept: the first pass checks
every line (the answer lists the first REJECTED_SHOWN bad ones with their numbers and counts the
rest) and asks Redis whether any key holds another type; the second writes the good lines in
chunks. So the web's memory is the body plus a byte per line, and the answer is at most a few
kilobytes, whatever the request holds. A key that holds a list, a hash... refuses the whole
request (409) before anything is written, as /set refuses it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask import Blueprint, Response, jsonify, request

from shared.core.settings import Settings
from web.access import Access, Limit, policy
from web.errors import refuse
from web.services import services
from web.validation import name_problem, value_problem

bp = Blueprint("bulk", __name__, url_prefix="/api")
log = logging.getLogger(__name__)

#: Keys per BULK_SET call: one short step of Redis each (500 took 15 ms twice on this 2-core VM under load).
CHUNK = 250
#: BULK_SET calls per round trip (the pipeline's buffer stays near a megabyte).
CALLS_PER_TRIP = 100
#: Bad lines the answer lists; the others are only counted.
REJECTED_SHOWN = 100
NEWLINE = b"\n"


@dataclass
class Report:
    """What a CSV held: its lines, the good ones loaded, the bad ones (the first few with their reason)."""

    lines: int = 0
    loaded: int = 0
    rejected_count: int = 0
    rejected: list[dict[str, object]] = field(default_factory=list)
    #: One byte per line: 1 where the line is a good `chave,valor`.
    good: bytearray = field(default_factory=bytearray)

    def reject(self, number: int, reason: str) -> None:
        """Count a bad line; list it while the list is short."""
        self.rejected_count += 1
        if len(self.rejected) < REJECTED_SHOWN:
            self.rejected.append({"line": number, "error": reason})


def lines(raw: bytes) -> Iterator[bytes]:
    """Yield the body's lines (a final line without a newline included), each without its CR."""
    start = 0
    while start < len(raw):
        end = raw.find(NEWLINE, start)
        if end < 0:
            end = len(raw)
        yield raw[start:end].removesuffix(b"\r")
        start = end + 1


def _pair(line: bytes) -> tuple[str, str | None]:
    """Split a line as `IFS=, read -r chave valor` does (the value is the rest of the line); None: no comma."""
    text = line.decode("utf-8")
    key, comma, value = text.partition(",")
    return key, value if comma else None


def check(raw: bytes, settings: Settings) -> Report:
    """Read every line once: count them, mark the good ones, report the bad ones."""
    report = Report()
    for number, line in enumerate(lines(raw), start=1):
        report.lines = number
        report.good.append(0)
        if not line.strip():
            continue
        try:
            key, value = _pair(line)
        except UnicodeDecodeError:
            report.reject(number, "the line is not UTF-8 text")
            continue
        if value is None:
            report.reject(number, "no comma: a line is chave,valor")
            continue
        found = name_problem(key, settings, writing=True) or value_problem(value, settings)
        if found:
            report.reject(number, found.reason)
        else:
            report.good[-1] = 1
    return report


def _chunks(raw: bytes, report: Report) -> Iterator[tuple[list[str], list[str]]]:
    """Yield the good lines as (keys, values), CHUNK at a time."""
    names: list[str] = []
    values: list[str] = []
    for index, line in enumerate(lines(raw)):
        if report.good[index]:
            key, value = _pair(line)
            names.append(key)
            values.append(value or "")
            if len(names) == CHUNK:
                yield names, values
                names, values = [], []
    if names:
        yield names, values


def _store(raw: bytes, report: Report, *, check_only: bool) -> None:
    """Run BULK_SET over the good lines (checking, or writing); refuse (409) a key of another type."""
    script = services().bulk_set
    pipe = services().redis.pipeline(transaction=False)
    calls = 0

    def trip() -> None:
        for ok, *detail in pipe.execute():
            if not ok:
                key, kind = detail
                written = f"; {report.loaded} line(s) were written before it changed" if report.loaded else ""
                refuse(409, "wrong_type", f"'{key}' holds a {kind}, not a string (WRONGTYPE): nothing of this CSV "
                                          f"was written{written}; use another name",
                       pt=f"a chave '{key}' não guarda um texto (WRONGTYPE): nada deste CSV foi gravado; use outro "
                          "nome", key=key, type=kind, loaded=report.loaded)
            if not check_only:
                report.loaded += detail[0]

    for names, values in _chunks(raw, report):
        script(keys=names, args=["1" if check_only else "0", *values], client=pipe)
        calls += 1
        if calls % CALLS_PER_TRIP == 0:
            trip()
    trip()


@bp.post("/bulk")
@policy(Access.OPEN, Limit.WRITES)
def load() -> Response:
    """SET every good `chave,valor` line (in chunks); report bad lines by number (the first 100, and a count).

    ---
    tags: [kv]
    requestBody:
      required: true
      content:
        text/csv:
          schema: {type: string}
    responses:
      '200':
        description: What loaded, and each bad line with its reason.
        content:
          application/json:
            schema: {$ref: '#/components/schemas/BulkReport'}
      '400':
        description: Nothing could be loaded (every line refused), or the body is empty or not UTF-8.
        content:
          application/json:
            schema:
              oneOf:
              - {$ref: '#/components/schemas/BulkReport'}
              - {$ref: '#/components/schemas/Error'}
      '413': {$ref: '#/components/responses/TooLarge'}
      '503': {$ref: '#/components/responses/Unavailable'}
    """
    raw = request.get_data(cache=False)
    if not raw.strip():
        refuse(400, "empty_body", "the request body is empty: send chave,valor lines (text/csv)")
    report = check(raw, services().settings)
    if any(report.good):
        _store(raw, report, check_only=True)
        _store(raw, report, check_only=False)
    log.info("redis SET %s key(s) from a CSV of %s line(s), %s rejected", report.loaded, report.lines,
             report.rejected_count)
    response = jsonify({"loaded": report.loaded, "lines": report.lines, "rejected": report.rejected,
                        "rejected_count": report.rejected_count})
    response.status_code = 200 if report.loaded or not report.rejected_count else 400
    return response
