"""Fast unit tests: settings, key names, Fibonacci, envelopes, ids."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import keys
from shared.envelope import decode, encode
from shared.fibonacci import Algorithm, compute, fib_fast, fib_naive, to_decimal
from shared.ids import id_minute, id_time, is_valid, new_id, new_ids
from shared.settings import Delivery, Settings


def test_settings_defaults_and_env():
    assert Settings.from_env({}).redis_url == "redis://localhost:6379/0"
    s = Settings.from_env({"REDIS_URL": "redis://r:1/2", "MAX_ATTEMPTS": "3", "WORKER_DELIVERY": "brpop",
                           "JOB_RETRY_INTERVALS": "1,2,3", "LOG_MESSAGES": "no"})
    assert (s.redis_url, s.max_attempts, s.worker_delivery, s.job_retry_intervals, s.log_messages) == (
        "redis://r:1/2", 3, Delivery.BRPOP, (1.0, 2.0, 3.0), False)
    assert Settings.from_env(s.env()) == s


@pytest.mark.parametrize(("name", "value"), [("MAX_ATTEMPTS", "x"), ("MAX_ATTEMPTS", "0"),
                                             ("WORKER_DELIVERY", "fast"), ("LOG_MESSAGES", "maybe")])
def test_settings_bad_values_name_the_variable(name, value):
    with pytest.raises(ValueError, match=name if value != "0" else "max_attempts"):
        Settings.from_env({name: value})


def test_fibonacci_known_values():
    assert [fib_naive(n) for n in range(10)] == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]
    assert fib_fast(30) == 832040
    assert fib_fast(100) == 354224848179261915075
    assert compute(25, Algorithm.NAIVE) == compute(25, Algorithm.FAST) == 75025
    assert len(to_decimal(fib_fast(100_000))) == 20899


@given(st.integers(min_value=0, max_value=400))
def test_fast_doubling_matches_iteration(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    assert fib_fast(n) == a


@given(st.text(min_size=1, max_size=40))
def test_reserved_prefixes_always_refused(suffix):
    for prefix in (keys.PREFIX, keys.RQ_PREFIX, keys.FIB_PREFIX):
        assert keys.reserved_reason(prefix + suffix, "fila") is not None
    assert keys.reserved_reason("hits", "fila")
    assert keys.reserved_reason("fila", "fila") and keys.reserved_reason("fila", "fila", allow_queue=True) is None


def test_internal_keys_share_the_prefix():
    for key in (keys.WORKERS, keys.REAPER_LOCK, keys.RECENT, keys.results("q", 1), keys.worker("w"),
                keys.processing("w"), keys.dead("q"), keys.pending("q"), keys.stats("q"), keys.rate("q", 1)):
        assert key.startswith(keys.PREFIX)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids), max_leaves=10))
def test_envelope_round_trip(body):
    raw = encode("01ABC", json.dumps(body), 12.5, attempts=2)
    env = decode(raw, now=0)
    assert (env.id, env.body, env.attempts, env.wrapped) == ("01ABC", body, 2, False)


def test_envelope_id_reads_the_head_only():
    from shared.envelope import envelope_id

    assert envelope_id(encode("01ABC", '"x"', 1.0)) == "01ABC"
    assert envelope_id('{"id":"x"}') is None and envelope_id("hello") is None


def test_raw_entries_are_wrapped():
    env = decode("hello", now=5.0)
    assert env.wrapped and env.body == "hello" and env.attempts == 0 and is_valid(env.id)


def test_ids_sort_by_time_and_are_unique():
    early, late = new_id(1000.0), new_id(2000.0)
    assert early < late
    assert id_time(late) == 2000.0 and id_time("nope") is None
    assert id_minute(new_id(3600.0)) == 60
    batch = new_ids(1000, 3000.0)
    assert len(set(batch)) == 1000 and all(is_valid(i) for i in batch)


@pytest.mark.parametrize("text", ['{"n": 18446744073709551616}', '[-9223372036854775809, 1]', '{"a": [1e300]}',
                                  '{"x": "\\ud800"}'])
def test_codec_is_exact_where_orjson_is_not(text):
    from shared.codec import loads

    assert loads(text) == json.loads(text)


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', "{bad"])
def test_codec_refuses_what_is_not_json(text):
    from shared.codec import loads

    with pytest.raises(ValueError):
        loads(text)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(), lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids), max_leaves=10))
def test_codec_round_trip_matches_json(value):
    from shared.codec import dumps, loads

    assert loads(dumps(value)) == json.loads(json.dumps(value))
