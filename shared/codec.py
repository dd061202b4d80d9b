"""JSON for the hot paths: orjson when it is exact, the standard library when it is not.

orjson is 5-10x faster, but it reads integers beyond 64 bits as floats and refuses to write
them. A parse that produced a float of 2**63 or more in magnitude is redone by `json`, which
is exact; a value orjson refuses to write goes through `json` too. NaN and Infinity are not
JSON and are refused on input.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import orjson

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
_HUGE = 9.2e18  # just under 2**63: orjson keeps every integer below it exact


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


_decode = json.JSONDecoder(parse_constant=_refuse_constant).decode


def _has_huge_float(value: Any) -> bool:
    kind = type(value)
    if kind is float:
        return not -_HUGE < value < _HUGE
    if kind is dict:
        for item in value.values():
            if _has_huge_float(item):
                return True
    elif kind is list:
        for item in value:
            if _has_huge_float(item):
                return True
    return False


def loads(text: str | bytes) -> Any:
    """Parse JSON exactly (big integers stay integers); raise ValueError when it is not JSON."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = None
    else:
        if not _has_huge_float(value):
            return value
    return _decode(text if isinstance(text, str) else text.decode("utf-8"))


def dumps(value: Any) -> str:
    """Encode as compact JSON text (non-ASCII kept as is; unknown types as their str)."""
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return _encode(value)
