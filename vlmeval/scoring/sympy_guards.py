"""Limits that keep sympy from computing enormous exact numbers while we build or print an expression.

latex2sympy's output is printed with `str()`, and sympy's printer evaluates the terms of a sum to
order them, exactly: `45^{100^{12}} - 1` would hang the official scorer as well. Before printing, and
before the few sympy calls that evaluate eagerly (binomial, exp, transpose), the expression's numbers
are bounded from above; anything past the limits is rejected rather than computed.
"""

from __future__ import annotations

import math

import sympy
from sympy import functions as sf

from vlmeval.scoring.latex_tokens import Rejected

MAX_SIZE_BITS = 1_000_000
MAX_BINOMIAL_K = 5_000  # sympy expands binomial(n, k) for integer k as a product of k terms
MAX_SYMBOLIC_BINOMIAL_K = 20


def check_printable(expression: sympy.Basic) -> None:
    if size_bits(expression) > MAX_SIZE_BITS:
        raise Rejected("numbers too large to print")


def size_bits(expression: sympy.Basic) -> float:
    """An upper bound on log2 of any exact number sympy may compute from `expression` (numerators,
    denominators, exact powers and factorials); 2^{3^{100}} is about 5e47 bits, (0.03)^{12} only 61."""
    return _sizes(expression)[0]


def _sizes(expression: sympy.Basic) -> tuple[float, float]:
    """(size in bits as in `_size_bits`, an upper bound on log2 of the absolute value)."""
    if expression.is_Rational:
        p, q = abs(expression.p), expression.q
        return math.log2(max(p, q, 1)), (math.log2(p) - math.log2(q) if p else -math.inf)
    parts = [_sizes(argument) for argument in expression.args]
    bits, magnitudes = [size for size, _ in parts], [magnitude for _, magnitude in parts]
    if isinstance(expression, sympy.Pow):
        exponent = expression.exp
        scale = float(abs(exponent)) if exponent.is_Rational else 2.0 ** min(magnitudes[1], 1024.0)
        shrinks = exponent.is_Rational and exponent > 0 and magnitudes[0] < 0
        return bits[0] * scale, magnitudes[0] * scale if shrinks else bits[0] * scale
    if isinstance(expression, sf.factorial):
        count = 2.0 ** min(magnitudes[0], 1024.0)
        return count * max(magnitudes[0], 1.0), count * max(magnitudes[0], 1.0)  # log2(n!) <= n log2(n)
    if isinstance(expression, sympy.Mul):
        return sum(bits), sum(magnitudes)
    return max(bits, default=2.0) + 1, max([*magnitudes, 0.0]) + 1


def bounded(*arguments: sympy.Basic) -> None:
    """Before sympy evaluates eagerly (binomial, exp, transpose query assumptions): no huge numbers."""
    if any(size_bits(argument) > MAX_SIZE_BITS for argument in arguments):
        raise Rejected("numbers too large")


def bounded_binomial(top: sympy.Basic, bottom: sympy.Basic) -> sympy.Basic:
    """sympy.binomial evaluates eagerly: a product of k terms for integer k (slow when n is symbolic),
    else gamma(n + 1) / ..., an exact factorial when n is an integer; refuse what would take long."""
    bounded(top, bottom)
    if bottom.is_Integer:
        k = int(bottom)
        if top.is_Integer:
            k = min(k, int(top) - k)
        plain_sum = isinstance(top, sympy.Add) and all(arg.is_Integer for arg in top.args)
        numeric = top.is_Rational or (plain_sum and 0 <= top <= MAX_BINOMIAL_K)  # plain sums: shortcuts
        too_slow = k > (MAX_BINOMIAL_K if numeric else MAX_SYMBOLIC_BINOMIAL_K)
    else:
        too_slow = max(_sizes(top)[1], _sizes(bottom)[1]) > math.log2(MAX_BINOMIAL_K)
    if too_slow:
        raise Rejected("binomial too large")
    return sympy.binomial(top, bottom)
