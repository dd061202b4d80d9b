"""No fila operation holds Redis longer than 10 ms: the scale benchmark at a test's size (make bench scale: 1M)."""

from __future__ import annotations

import pytest

from benchmarks.scale import LIMIT_MS, render, run

pytestmark = pytest.mark.slow


def test_no_fila_call_holds_redis_over_10_ms(settings, rdb):
    measures = run(rdb, settings, size=20_000, workers=40, held=500, bulk_lines=100_000)
    print("\n" + render(measures))
    calls = [m for m in measures if not m.operation.startswith("memory")]
    assert len(calls) == 19 and all(m.calls > 0 for m in calls)  # every operation did talk to Redis
    over = [(m.operation, round(m.longest_ms, 2), m.command) for m in calls if m.longest_ms > LIMIT_MS]
    assert over == []
