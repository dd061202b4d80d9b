"""The JSON codec: orjson's speed, the standard library's exactness."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.core.codec import DEPTH_MAX, dumps, loads


@pytest.mark.parametrize("text", ['{"n": 18446744073709551616}', '[-9223372036854775809, 1]', '{"a": [1e300]}',
                                  '{"x": "\\ud83d\\ude00"}', "[" * DEPTH_MAX + "]" * DEPTH_MAX])
def test_codec_is_exact_where_orjson_is_not(text):
    assert loads(text) == json.loads(text)


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', "{bad", "[1e400]", '{"a": -1e999}'])
def test_codec_refuses_what_is_not_json(text):
    with pytest.raises(ValueError):
        loads(text)


@pytest.mark.parametrize("text", ['"\\ud800x"', '{"\\udfff": 1}', '["ok", {"a": ["\\ud83d"]}]',
                                  '{"big": 18446744073709551616, "x": "\\udc00"}'])
def test_codec_refuses_lone_surrogates_wherever_they_are(text):
    with pytest.raises(ValueError, match="surrogate"):
        loads(text)


@pytest.mark.parametrize("depth", [DEPTH_MAX + 1, 990, 5000, 100_000])
@pytest.mark.parametrize("shape", ["[{open}]", '{{"a":{open}}}'])
def test_codec_refuses_nesting_beyond_the_limit_at_any_depth(depth, shape):
    # Arrays, and objects inside arrays: the depth counts both, and nothing recurses (no RecursionError).
    text = "[" * depth + "]" * depth if shape == "[{open}]" else '{"a":' * depth + "1" + "}" * depth
    with pytest.raises(ValueError, match="nested deeper"):
        loads(text)


def test_codec_refuses_integers_beyond_python_s_digit_guard():
    with pytest.raises(ValueError):
        loads("9" * 5000)
    assert loads("9" * 4000) == int("9" * 4000)


def test_dumps_refuses_what_it_could_not_read_back():
    deep: list = []
    for _ in range(300):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        dumps(deep)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(), lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids), max_leaves=10))
def test_codec_round_trip_matches_json(value):
    assert loads(dumps(value)) == json.loads(json.dumps(value))
