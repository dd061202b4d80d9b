"""Fibonacci numbers: the handout's naive recursion and O(log n) fast doubling."""

from __future__ import annotations

import sys
from enum import StrEnum

#: The largest n fila reads from a request (each route's own limit is a setting, far below it).
N_MAX = 999_999_999


class Algorithm(StrEnum):
    """Which way to compute."""

    NAIVE = "naive"
    FAST = "fast"


def fib_naive(n: int) -> int:
    """Compute F(n) by the handout's exponential recursion."""
    if n <= 1:
        return n
    return fib_naive(n - 1) + fib_naive(n - 2)


def fib_fast(n: int) -> int:
    """Compute F(n) by fast doubling: F(2k) = F(k)(2F(k+1) - F(k)), F(2k+1) = F(k)^2 + F(k+1)^2."""
    if n < 0:
        raise ValueError("n must be >= 0")
    a, b = 0, 1
    for bit in bin(n)[2:]:
        c = a * ((b << 1) - a)
        d = a * a + b * b
        a, b = (d, c + d) if bit == "1" else (c, d)
    return a


def compute(n: int, algorithm: Algorithm) -> int:
    """Compute F(n) with the chosen algorithm."""
    return fib_naive(n) if Algorithm(algorithm) is Algorithm.NAIVE else fib_fast(n)


def to_decimal(value: int) -> str:
    """Render a (possibly huge) int in decimal, lifting Python's 4300-digit guard for it."""
    limit = sys.get_int_max_str_digits()
    if value.bit_length() < 14000 or limit == 0:
        return str(value)
    sys.set_int_max_str_digits(0)
    try:
        return str(value)
    finally:
        sys.set_int_max_str_digits(limit)
