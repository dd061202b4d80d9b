"""The schedule's arithmetic: the backoff formula (hypothesis), the options an envelope carries, expiry."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from shared.core.settings import Settings
from shared.messages.envelope import decode, encode
from shared.messages.schedule import Options, attempts_allowed, backoff_ms, expired, retry_base


@given(failed=st.integers(1, 10_000), base=st.integers(0, 10**7), ceiling=st.integers(0, 10**9),
       draw=st.floats(0, 1, exclude_max=True))
def test_backoff_is_full_jitter_under_the_capped_exponential(failed, base, ceiling, draw):
    most = max(base, ceiling)  # Settings keeps RETRY_MAX_MS >= RETRY_BASE_MS
    wait = backoff_ms(failed, base, most, draw=lambda: draw)
    cap = min(most, base * 2 ** (failed - 1))
    assert wait == int(cap * draw)
    assert 0 <= wait <= cap and (wait < cap or cap == 0)


@given(failed=st.integers(1, 60), base=st.integers(1, 10**6))
def test_backoff_ceilings_double_until_the_maximum(failed, base):
    most = 300_000
    top = backoff_ms(failed, base, max(most, base), draw=lambda: 1 - 2**-53)
    after = backoff_ms(failed + 1, base, max(most, base), draw=lambda: 1 - 2**-53)
    assert top <= after <= max(2 * top + 2, max(most, base))


def test_no_base_or_no_failure_means_no_wait():
    assert backoff_ms(3, 0, 1000) == 0 and backoff_ms(0, 1000, 1000) == 0


def test_options_ride_in_the_envelope_and_override_the_settings():
    settings = Settings()
    carried = Options(due_ms=5, ttl_ms=100, max_attempts=7, retry_base_ms=50).carried()
    assert json.loads(carried) == {"due_ms": 5, "ttl_ms": 100, "max_attempts": 7, "retry_base_ms": 50}
    envelope = decode(encode("01J0000000000000000000000A", '{"a":1}', 1.0, opts_json=carried), 2.0)
    assert envelope.body == {"a": 1} and envelope.opts == json.loads(carried)
    assert attempts_allowed(envelope, settings) == 7 and retry_base(envelope, settings) == 50
    plain = decode(encode("01J0000000000000000000000B", '{"a":1}', 1.0), 2.0)
    assert plain.opts is None and Options().carried() == ""
    assert attempts_allowed(plain, settings) == settings.max_attempts
    assert retry_base(plain, settings) == settings.retry_base_ms


def test_expiry_counts_from_when_it_was_due_and_spares_what_already_ran():
    delayed = decode(encode("01J0000000000000000000000C", "1", 100.0, opts_json='{"due_ms":200000,"ttl_ms":500}'), 0)
    assert not expired(delayed, 200.4) and expired(delayed, 200.6)
    at_once = decode(encode("01J0000000000000000000000D", "1", 100.0, opts_json='{"ttl_ms":500}'), 0)
    assert not expired(at_once, 100.4) and expired(at_once, 100.6)
    retried = decode(encode("01J0000000000000000000000E", "1", 100.0, 1, opts_json='{"ttl_ms":500}'), 0)
    assert not expired(retried, 1000.0)  # it started once: a retry is not expired
