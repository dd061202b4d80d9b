"""The JSON codec: orjson's speed, the standard library's exactness."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.codec import dumps, loads


@pytest.mark.parametrize("text", ['{"n": 18446744073709551616}', '[-9223372036854775809, 1]', '{"a": [1e300]}',
                                  '{"x": "\\ud800"}'])
def test_codec_is_exact_where_orjson_is_not(text):
    assert loads(text) == json.loads(text)


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', "{bad"])
def test_codec_refuses_what_is_not_json(text):
    with pytest.raises(ValueError):
        loads(text)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(), lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids), max_leaves=10))
def test_codec_round_trip_matches_json(value):
    assert loads(dumps(value)) == json.loads(json.dumps(value))
