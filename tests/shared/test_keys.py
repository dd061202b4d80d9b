"""Key names: fila's under one prefix, reserved names refused to users."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.core import keys


@given(st.text(min_size=1, max_size=40))
def test_reserved_prefixes_always_refused(suffix):
    for prefix in (keys.PREFIX, keys.RQ_PREFIX, keys.FIB_PREFIX):
        assert keys.reserved_owner(prefix + suffix, "fila") is not None
    assert keys.reserved_owner("hits", "fila")
    assert keys.reserved_owner("fila", "fila") and keys.reserved_owner("fila", "fila", allow_queue=True) is None


def test_internal_keys_share_the_prefix():
    for key in (keys.WORKERS, keys.REAPER_LOCK, keys.RECENT, keys.results("q", 1), keys.worker("w"),
                keys.processing("w"), keys.dead_index("q"), keys.pending("q"), keys.stats("q"), keys.rate("q", 1)):
        assert key.startswith(keys.PREFIX)
