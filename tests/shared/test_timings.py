"""The processing-time histogram (fakeredis: the arithmetic is the point, not the server)."""

from __future__ import annotations

import fakeredis

from shared.messages import timings


def test_flush_adds_counts_and_read_makes_them_cumulative():
    client = fakeredis.FakeRedis(decode_responses=True)
    counter = timings.Timings()
    for ms in (0.05, 0.3, 0.3, 7.0, 20_000.0):
        counter.observe(ms)
    assert counter.flush(client, "fila") == 5
    assert counter.flush(client, "fila") == 0  # nothing new since the last flush
    buckets, total, count = timings.read(client, "fila")
    assert count == 5 and abs(total - 20.00765) < 1e-9
    assert dict(buckets)["0.0001"] == 1 and dict(buckets)["0.0005"] == 3 and dict(buckets)["0.01"] == 4
    assert buckets[-1] == ("+Inf", 5)
