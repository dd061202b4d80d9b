"""The envelope: one layout, read the same by Python and by the Lua scripts (through a real redis-server)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.core.codec import loads
from shared.core.ids import id_millis, id_minute, is_valid, new_id
from shared.messages import lua
from shared.messages.envelope import HEAD, decode, encode, envelope_id

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids), max_leaves=10)
#: Runs the helpers of shared/messages/lua/helpers.lua on one entry, one id and one timestamp.
PROBE = lua.HELPERS + """
local entry, attempts, id = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local head_id, head_attempts = envelope_head(entry)
return {envelope_id(entry) or false, head_id or false, head_attempts, with_attempts(entry, attempts),
        id_minute(id), new_id(tonumber(ARGV[4]), tonumber(ARGV[5])), wrap(id, ARGV[6], entry)}
"""


@given(JSON)
def test_envelope_round_trip(body):
    raw = encode("01ABC", json.dumps(body), 12.5, attempts=2)
    env = decode(raw, now=0)
    assert (env.id, env.body, env.attempts, env.wrapped) == ("01ABC", body, 2, False)


def test_envelope_id_reads_the_head_only():
    assert envelope_id(encode("01ABC", '"x"', 1.0)) == "01ABC"
    assert envelope_id('{"id":"x"}') is None and envelope_id("hello") is None
    assert envelope_id('{"id":"x","attempts":"1"}') is None


def test_raw_entries_are_wrapped():
    env = decode("hello", now=5.0)
    assert env.wrapped and env.body == "hello" and env.attempts == 0 and is_valid(env.id)


@pytest.fixture(scope="module")
def probe(redis_server):
    client = redis_server.client()
    script = client.register_script(PROBE)
    yield lambda *args: script(keys=[], args=list(args))
    client.close()


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON, attempts=st.integers(0, 10_000), bumped=st.integers(0, 10_000),
       millis=st.integers(0, 2 ** 48 - 1), seq=st.integers(0, 2 ** 40))
def test_python_and_lua_agree_on_envelopes_and_ids(probe, body, attempts, bumped, millis, seq):
    message_id = new_id(millis / 1000)
    raw = encode(message_id, json.dumps(body), 1234.5, attempts)
    lua_id, head_id, head_attempts, rewritten, minute, lua_new_id, wrapped = probe(raw, bumped, message_id, millis,
                                                                                   seq, "99.5")
    assert lua_id == head_id == envelope_id(raw) == message_id
    assert head_attempts == decode(raw, 0).attempts == attempts
    assert decode(rewritten, 0) == decode(encode(message_id, json.dumps(body), 1234.5, bumped), 0)._replace(
        raw=rewritten)
    assert minute == id_minute(message_id)
    assert is_valid(lua_new_id) and id_millis(lua_new_id) == millis
    unwrapped = loads(wrapped)
    assert unwrapped == {"id": message_id, "attempts": 0, "enqueued_at": 99.5, "body": raw}
    assert envelope_id(wrapped) == message_id


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60).map(lambda tail: HEAD + tail) | st.text(max_size=60))
def test_python_and_lua_agree_on_what_is_an_envelope(probe, raw):
    lua_id, head_id, head_attempts = probe(raw, 0, "01M8AKS6Q7JGTGH5J7BPCXBTED", 0, 0, "0")[:3]
    assert (lua_id or None) == (head_id or None) == envelope_id(raw)
    # TAKE reads the attempts of what it takes with envelope_head: a raw entry counts as a first try.
    envelope = decode(raw, 0)
    if not head_id:
        assert head_attempts == 0
    elif not envelope.wrapped:
        assert head_attempts == envelope.attempts
