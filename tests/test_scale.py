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


def test_no_scheduled_message_call_holds_redis_over_10_ms(settings, rdb):
    from benchmarks.schedule import scale_rows

    worst, promotion, memory = scale_rows(settings, rdb, size=50_000)
    print(f"\n{worst.what}: {worst.value:.2f} ms; {promotion.value:,.0f} msg/s promoted; {memory.value:.0f} bytes each")
    assert worst.met and worst.value > 0, worst.what
    assert promotion.value > 0 and memory.value > 0
