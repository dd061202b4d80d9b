"""JSON for the hot paths: orjson when it is exact, the standard library when it is not.

orjson is 5-10x faster, but it reads integers beyond 64 bits as floats and refuses to write
them. A parse that produced a float of 2**63 or more in magnitude is redone by `json`, which
is exact; a value orjson refuses to write goes through `json` too.

What fila accepts is JSON that it can store and give back unchanged, so `loads` refuses
(ValueError) what is not: NaN and Infinity (as words, or as a number too large for a float),
lone surrogates (`"\\ud800"`: Redis stores UTF-8, which cannot hold them), and nesting deeper
than DEPTH_MAX levels (documented in docs/api.md; a deeper document would exhaust Python's
stack in any recursive reader). Every check is a walk without recursion.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn

import orjson

#: The deepest nesting of arrays and objects a request's document may have (`[[1]]` is 2 deep).
DEPTH_MAX = 64
#: The deepest nesting of what fila stores (a body inside an envelope, a result inside a record):
#: `dumps` writes no deeper than orjson does, 254 levels.
STORED_DEPTH_MAX = 256

#: The most values (scalars, arrays, objects) a request's document may hold: parsed, a value costs
#: Python 50-100 bytes, so a 16 MB document of `[],[],...` would need 400 MB.
VALUES_MAX = 1_000_000
#: A JSON string, escapes included (to count the commas and brackets outside strings).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
_HUGE = 9.2e18  # just under 2**63: orjson keeps every integer below it exact
_FAILED = object()
#: What the check of orjson's output visits: containers (for the depth) and floats (for exactness).
_CHECKED = frozenset({dict, list, float})


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


_decode = json.JSONDecoder(parse_constant=_refuse_constant).decode


def _walk(value: Any, depth_max: int) -> None:
    """Check what the standard library parsed: nesting, and every string and float (orjson refuses what it
    refuses: lone surrogates, non-finite numbers; the standard library does not). A walk without
    recursion: the document may be as deep as the standard library's own limit."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is dict or kind is list:
            if depth > depth_max:
                raise ValueError(f"nested deeper than {depth_max} levels")
            stack.extend((child, depth + 1) for child in (item.values() if kind is dict else item))
            if kind is dict:
                stack.extend((key, depth) for key in item)
        elif kind is float:
            if not math.isfinite(item):
                raise ValueError("a number is too large: JSON numbers must fit a double")
        elif kind is str and not item.isascii():
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff): not Unicode text") from None


def values_bound(raw: bytes) -> int:
    """Return at least how many values a JSON document holds, without parsing it (C-speed counts)."""
    def count(text: bytes) -> int:
        return text.count(b",") + text.count(b"[") + text.count(b"{") + 1
    quick = count(raw)
    return quick if quick <= VALUES_MAX else count(_STRING.sub(b'""', raw))


def _huge(value: Any, depth: int, depth_max: int) -> bool:
    """Tell whether orjson's output holds a float beyond its exact range; refuse nesting past `depth_max`.

    The hot path's check (every envelope a worker reads): a recursion, which never goes deeper
    than `depth_max` (it refuses first), over containers and floats only.
    """
    kind = type(value)
    if kind is float:
        return not -_HUGE < value < _HUGE
    if kind is dict:
        items = value.values()
    elif kind is list:
        items = value
    else:
        return False
    if depth > depth_max:
        raise ValueError(f"nested deeper than {depth_max} levels")
    huge = False
    for item in items:
        if type(item) in _CHECKED and _huge(item, depth + 1, depth_max):
            huge = True
    return huge


def loads(text: str | bytes, depth_max: int = DEPTH_MAX, *, values_max: int | None = None) -> Any:
    """Parse JSON exactly (big integers stay integers); raise ValueError when fila cannot keep it as sent.

    `values_max` bounds the values of a document (given as bytes) before it is parsed.
    """
    if values_max is not None and isinstance(text, bytes) and values_bound(text) > values_max:
        raise ValueError(f"more than {values_max} values in one document: split it")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = _FAILED
    if value is not _FAILED and not _huge(value, 1, depth_max):
        return value
    try:
        value = _decode(text if isinstance(text, str) else text.decode("utf-8"))
    except RecursionError:
        raise ValueError(f"nested deeper than {depth_max} levels") from None
    _walk(value, depth_max)
    return value


def dumps(value: Any) -> str:
    """Encode as compact JSON text (non-ASCII kept as is; unknown types as their str).

    Raise ValueError for a value nested deeper than orjson writes (254 levels).
    """
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError as exc:
        if "Recursion" in str(exc):
            raise ValueError("nested deeper than 254 levels") from None
        return _encode(value)
