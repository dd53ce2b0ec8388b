"""Evaluate a sympy print-out the way `eval` does inside a module that ran `from math import *`.

The source is parsed with `ast.parse` (which never executes anything) and walked over a whitelist:
number literals, + - * / **, unary +/-, comparisons, and the public names of the `math` module (pi, e,
sqrt, sin, log, exp, floor, factorial, gamma, ...). Any other name is a NameError in the official
scorer and is rejected here; attribute access, subscripts, lambdas, keywords and the like are rejected
too. Arithmetic is plain Python: ints stay exact, `/` is true division, `**` may give a complex number
(rejected: round() raises on it), math-domain errors, overflow and division by zero reject.
Guards keep one evaluation fast: integers over MAX_INT_BITS bits and factorials over MAX_FACTORIAL
are rejected instead of computed.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from vlmeval.scoring.latex_tokens import Rejected

MAX_INT_BITS = 1_000_000
MAX_FACTORIAL = 50_000
MAX_DEPTH = 400

Number = int | float | bool

_NAMES: dict[str, Any] = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")}
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def evaluate_in_math_namespace(source: str) -> Number:
    """The value of the Python expression `source` under `from math import *`; raises Rejected."""
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise Rejected(f"unparsable print-out: {error}") from error
    return _evaluate(tree.body, 0)


def _refuse_if(condition: bool, reason: str) -> None:
    if condition:
        raise Rejected(reason)


def _checked(value: Any) -> Number:
    if not isinstance(value, int | float):  # complex, lists, functions: round() would raise
        raise Rejected(f"not a real number: {type(value).__name__}")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise Rejected("integer too large")
    return value


def _evaluate(node: ast.expr, depth: int) -> Number:
    if depth > MAX_DEPTH:
        raise Rejected("print-out nested too deeply")
    if isinstance(node, ast.Constant):
        return _checked(node.value)
    if isinstance(node, ast.Name):
        if node.id not in _NAMES or callable(_NAMES[node.id]):
            raise Rejected(f"name {node.id!r}")
        return _checked(_NAMES[node.id])
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_evaluate(node.operand, depth + 1)))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return _power(_evaluate(node.left, depth + 1), _evaluate(node.right, depth + 1))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _evaluate(node.left, depth + 1)
        return _checked(_BINARY[type(node.op)](left, _evaluate(node.right, depth + 1)))
    if isinstance(node, ast.Call):
        return _call(node, depth)
    if isinstance(node, ast.Compare):
        return _compare(node, depth)
    raise Rejected(f"unsupported syntax: {type(node).__name__}")


def _power(base: Number, exponent: Number) -> Number:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        _refuse_if(exponent * abs(base).bit_length() > MAX_INT_BITS and abs(base) > 1, "power too large")
    return _checked(base**exponent)


def _call(node: ast.Call, depth: int) -> Number:
    function: Any = _NAMES.get(node.func.id) if isinstance(node.func, ast.Name) else None
    if not callable(function) or node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise Rejected("unsupported call")
    arguments = [_evaluate(argument, depth + 1) for argument in node.args]
    if function is math.factorial and arguments and isinstance(arguments[0], int):
        _refuse_if(arguments[0] > MAX_FACTORIAL, "factorial too large")
    return _checked(function(*arguments))


def _compare(node: ast.Compare, depth: int) -> bool:
    """Python's chained comparison, left to right, stopping at the first false link."""
    left = _evaluate(node.left, depth + 1)
    for op, comparator in zip(node.ops, node.comparators, strict=True):
        if type(op) not in _COMPARE:
            raise Rejected("unsupported comparison")
        right = _evaluate(comparator, depth + 1)
        if not _COMPARE[type(op)](left, right):
            return False
        left = right
    return True
