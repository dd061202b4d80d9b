"""Fibonacci: the handout's recursion and fast doubling agree."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.jobs.fibonacci import Algorithm, compute, fib_fast, fib_naive, to_decimal


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
