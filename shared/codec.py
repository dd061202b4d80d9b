"""JSON for the hot paths: orjson when it is exact, the standard library when it is not.

orjson is 5-10x faster, but it reads integers beyond 64 bits as floats and refuses to write
them; texts with a run of 19+ digits, and anything orjson refuses, go through `json` instead.
NaN and Infinity are not JSON and are refused on input.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_LONG_NUMBER = re.compile(r"[0-9]{19}")
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


_decode = json.JSONDecoder(parse_constant=_refuse_constant).decode


def loads(text: str | bytes) -> Any:
    """Parse JSON exactly (big integers stay integers); raise ValueError when it is not JSON."""
    if not _LONG_NUMBER.search(text if isinstance(text, str) else text.decode("utf-8", "replace")):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return _decode(text if isinstance(text, str) else text.decode("utf-8"))


def dumps(value: Any) -> str:
    """Encode as compact JSON text (non-ASCII kept as is; unknown types as their str)."""
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return _encode(value)
