"""LaTeX -> the sympy expression latex2sympy2 1.9.1 builds, for the subset whose print-out can evaluate.

Our own recursive descent over the PS.g4 grammar (one method per rule), calling the same sympy
constructors with the same `evaluate=False` flags, so `str()` of the result is what the official scorer
prints, including sympy's printing quirks ("-\\frac{3}{1.5}" prints "-1*3/3/2", which evaluates to -0.5).
No text ever reaches sympy: numbers arrive as ints, everything else as sympy objects. Constructs whose
print-out could never evaluate in the `math` namespace (symbols, Abs, ceiling, sums, matrices, `=`,
lists) are rejected as soon as they are met; see `latex_tokens` for how tokens are classified.

Parsing stops quietly at a token that cannot continue the expression (the prefix counts, "24.so" is 24)
and fails at one that could but then breaks the grammar ("5(2,4)"): ANTLR's behaviour for a start rule
without EOF.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import sympy
from sympy import functions as sf

from vlmeval.scoring.latex_tokens import Rejected, Token, tokenize
from vlmeval.scoring.math_namespace import evaluate_in_math_namespace
from vlmeval.scoring.sympy_guards import bounded, bounded_binomial, check_printable

MAX_DEPTH = 200
MAX_CHAIN = 1_000  # operands of one sum or product

_PREPROCESS = (
    ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\mathrm{T}", "T"), ("\\mathrm{d}", "d"),
    ("{\\rm d}", "d"), ("\\displaystyle", " "), ("\\quad", " "), ("\\qquad", " "), ("~", " "),
    ("\\,", " "), ("$", " "),
)
# latex2sympy rewrites "(n)_{k}" (a falling factorial) into n!/(n-k)! before parsing: "(5)_{2}" -> 20.0.
_PERMUTATION = re.compile(r"\(([a-zA-Z0-9+\-*/\\ ]+?)\)_{([a-zA-Z0-9+\-*/\\ ]+?)}")

_RELATIONS: dict[str, Callable[..., sympy.Basic]] = {
    "<": sympy.StrictLessThan, "<=": sympy.LessThan, ">": sympy.StrictGreaterThan, ">=": sympy.GreaterThan,
}
# latex2sympy's renaming of inverse functions to sympy names (arc-trig, ar-hyperbolic, arc-hyperbolic).
_SYMPY_NAMES = {
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arsinh": "asinh", "arcosh": "acosh",
    "artanh": "atanh", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
}
_TRIG = ("sin", "cos", "tan", "sinh", "cosh", "tanh")


def to_sympy(text: str) -> sympy.Basic:
    """What `latex2sympy(text)` returns, for texts whose print-out may evaluate; else raises Rejected."""
    for old, new in _PREPROCESS:
        text = text.replace(old, new)
    text = _PERMUTATION.sub(r"\\frac{(\1)!}{((\1)-(\2))!}", text)
    expression = _Parser(tokenize(text)).math()
    check_printable(expression)
    return expression


def _flat(kind: type[sympy.Add] | type[sympy.Mul], left: sympy.Basic, right: sympy.Basic) -> sympy.Basic:
    """latex2sympy's add_flat / mul_flat: splice the arguments of operands that are already sums/products."""
    return kind(*_spliced(kind, left), *_spliced(kind, right), evaluate=False)


def _spliced(kind: type[sympy.Add] | type[sympy.Mul], value: sympy.Basic) -> tuple[sympy.Basic, ...]:
    return value.args if isinstance(value, kind) else (value,)


def _chain(kind: type[sympy.Add] | type[sympy.Mul], operands: list[sympy.Basic]) -> sympy.Basic:
    """`_flat` folded over a chain, built once rather than once per operator (latex2sympy's way is
    quadratic). Folding from either side gives the same object, so this also serves `convert_postfix_list`,
    which multiplies from the right. Chains longer than MAX_CHAIN are refused."""
    if len(operands) > MAX_CHAIN:
        raise Rejected("too many operands")
    if len(operands) == 1:
        return operands[0]
    return kind(*(argument for operand in operands for argument in _spliced(kind, operand)), evaluate=False)


def _negate(value: sympy.Basic) -> sympy.Basic:
    """Numbers are negated outright, anything else becomes `-1 * value`."""
    return -value if value.is_Number else _flat(sympy.Mul, sympy.Integer(-1), value)


def _divide(top: sympy.Basic, bottom: sympy.Basic) -> sympy.Basic:
    return sympy.Mul(top, sympy.Pow(bottom, -1, evaluate=False), evaluate=False)


class _Parser:
    """Recursive descent over the latex2sympy `math` rule, building sympy objects as it goes.

    `nofunc` marks the rule variants used for function arguments without parentheses
    (`\\sin 2\\pi` takes `2\\pi`; `\\sin 2 \\sqrt{3}` stops before `\\sqrt`).
    """

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self, ahead: int = 0) -> Token:
        """The next token; looking at one the official lexer or converter cannot handle fails."""
        token = self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]
        if token.kind in ("ERROR", "FAIL", "SYM"):
            raise Rejected(token.text)
        return token

    def take(self, *kinds: str, text: str | None = None) -> Token:
        token = self.peek()
        if token.kind not in kinds or (text is not None and token.text != text):
            raise Rejected(f"unexpected {token.text!r}")
        self.pos += 1
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        token = self.peek()
        return token.kind == kind and (text is None or token.text == text)

    def math(self) -> sympy.Basic:
        value = self.relation()
        if self.peek().kind in ("COMMA", "SEMI"):
            raise Rejected("a list")  # relation_list: round() of a list raises
        return value

    def relation(self) -> sympy.Basic:
        value = self.expr()
        while self.at("REL"):
            relation = _RELATIONS[self.take("REL").detail]
            value = relation(value, self.expr(), evaluate=False)
        return value

    def expr(self) -> sympy.Basic:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Rejected("too deep")
        terms = [self.mp(nofunc=False)]
        while self.peek().kind in ("ADD", "SUB"):
            subtract = self.take("ADD", "SUB").kind == "SUB"
            right = self.mp(nofunc=False)
            terms.append(_negate(right) if subtract else right)
        self.depth -= 1
        return _chain(sympy.Add, terms)

    def mp(self, nofunc: bool) -> sympy.Basic:
        factors = [self.unary(nofunc)]
        while self.peek().kind in ("MUL", "DIV"):
            multiply = self.take("MUL", "DIV").kind == "MUL"
            right = self.unary(nofunc)
            if multiply:
                factors.append(right)
            else:
                factors = [_divide(_chain(sympy.Mul, factors), right)]
        return _chain(sympy.Mul, factors)

    def unary(self, nofunc: bool) -> sympy.Basic:
        if self.at("ADD"):
            self.take("ADD")
            return self.unary(nofunc)
        if self.at("SUB"):
            self.take("SUB")
            return _negate(self.unary(nofunc))
        factors = [self.postfix(nofunc=False)]
        while self.starts_postfix(nofunc):
            factors.append(self.postfix(nofunc))
        return _chain(sympy.Mul, factors)  # implicit multiplication

    def starts_postfix(self, nofunc: bool) -> bool:
        kind = self.peek().kind
        if kind in ("NUM", "PI", "OPEN", "LEFT", "FLOOR", "FRAC", "BINOM"):
            return True
        return not nofunc and kind in ("FUNC", "MULTI", "SQRT", "EXP_E", "OPNAME")

    def postfix(self, nofunc: bool) -> sympy.Basic:
        value = self.exp(nofunc)
        while self.peek().kind in ("BANG", "TRANSPOSE"):
            if self.take("BANG", "TRANSPOSE").kind == "BANG":
                value = sf.factorial(value, evaluate=False)
            else:
                bounded(value)
                value = sympy.transpose(value)  # a scalar's transpose is itself: "5'" is 5
        return value

    def exp(self, nofunc: bool) -> sympy.Basic:
        value = self.comp(nofunc)
        while self.at("CARET"):
            self.take("CARET")
            value = sympy.Pow(value, self.script(), evaluate=False)
            if self.at("UNDERSCORE"):
                self.skip_subscript()  # `exp: exp ^ x subexpr?` converts without the subscript
        return value

    def script(self) -> sympy.Basic:
        """`atom | { expr }` after `^` or `_`: `2^10` is 1024; `2^(3)` and `2^-1` are syntax errors."""
        if self.at("OPEN", "{"):
            return self.braced()
        if self.at("NUM"):
            return sympy.Rational(*self.take("NUM").number.as_integer_ratio())
        self.take("PI")
        return sympy.pi

    def comp(self, nofunc: bool) -> sympy.Basic:
        kind = self.peek().kind
        if kind in ("NUM", "PI"):
            return self.script()
        if kind in ("OPEN", "LEFT", "FLOOR"):
            return self.group()
        if kind in ("FRAC", "BINOM"):
            self.take(kind)
            top = self.braced()
            bottom = self.braced()
            return _divide(top, bottom) if kind == "FRAC" else bounded_binomial(top, bottom)
        if not nofunc and kind in ("FUNC", "MULTI", "SQRT", "EXP_E", "OPNAME"):
            return self.function()
        raise Rejected(f"expected an expression at {self.peek().text!r}")

    def braced(self) -> sympy.Basic:
        self.take("OPEN", text="{")
        value = self.expr()
        self.take("CLOSE", text="}")
        return value

    def group(self) -> sympy.Basic:
        """`( x )`, `{ x }`, `[ x ]`, `\\{ x \\}`, `\\left( x \\right)`, floors, and `{ n \\choose k }`."""
        left = self.at("LEFT")
        if left:
            self.take("LEFT")
        opener = self.take("OPEN", "FLOOR")
        value = self.expr()
        if opener.text == "{" and not left and self.at("CHOOSE"):
            self.take("CHOOSE")
            value = bounded_binomial(value, self.expr())
        if self.peek().kind in ("COMMA", "SEMI"):
            raise Rejected("a list")
        if left:
            self.take("RIGHT")
        self.take("CLOSE", text=opener.detail)
        return sf.floor(value, evaluate=False) if opener.kind == "FLOOR" else value

    def skip_subscript(self) -> None:
        """`_ atom` or `_{ ... }`, checked for syntax only: letters are fine, nothing is converted."""
        self.take("UNDERSCORE")
        if self.tokens[self.pos].kind in ("NUM", "PI", "SYM"):
            self.pos += 1
            return
        self.take("OPEN", text="{")
        depth = 1
        while depth:
            token = self.tokens[self.pos]
            if token.kind in ("ERROR", "EOF"):
                raise Rejected("unclosed subscript")
            depth += {"{": 1, "}": -1}.get(token.text, 0)
            self.pos += 1

    def function(self) -> sympy.Basic:
        token = self.peek()
        if token.kind == "SQRT":
            return self.square_root()
        if token.kind == "EXP_E":
            self.take("EXP_E")
            return self.exponential()
        self.pos += 1
        name = token.text.lstrip("\\")
        if token.kind == "OPNAME":
            self.take("OPEN", text="{")
            name = self.take("OTHER").text
            self.take("CLOSE", text="}")
        base, power = self.function_scripts(log_base=name in ("log", "ln"))
        if name in ("gcd", "lcm"):
            value = self.gcd_lcm(name)
        else:
            argument = (
                self.parenthesised(several=False)[0] if self.opens_parenthesis() else self.mp(nofunc=True)
            )
            value, power = self.apply(name, argument, base, power)
        # `if func_pow and should_pow`: a literal zero power is dropped.
        return sympy.Pow(value, power, evaluate=False) if power is not None and bool(power) else value

    def exponential(self) -> sympy.Basic:
        """`e` alone is exp(1), printed E (no `math` name, so it fails unless sympy cancels it, as in
        `\\binom{e}{0}`); `e^{x}` is exp(x), except before `_`, where ANTLR reads `e^{x}_y` as E**x."""
        exponent = self.script_after("CARET")
        if exponent is not None and self.at("UNDERSCORE"):
            self.skip_subscript()
            return sympy.Pow(sympy.E, exponent, evaluate=False)
        exponent = sympy.Integer(1) if exponent is None else exponent
        bounded(exponent)
        return sympy.exp(exponent)

    def script_after(self, kind: str) -> sympy.Basic | None:
        if not self.at(kind):
            return None
        self.take(kind)
        return self.script()

    def function_scripts(self, log_base: bool) -> tuple[sympy.Basic | None, sympy.Basic | None]:
        """`_{..}` and `^{..}` in either order; the subscript is only used as a log base."""
        base = power = None
        for _ in range(2):
            if self.at("UNDERSCORE") and base is None and log_base:
                base = self.script_after("UNDERSCORE")
            elif self.at("UNDERSCORE") and not log_base:
                self.skip_subscript()
            elif self.at("CARET") and power is None:
                power = self.script_after("CARET")
        return base, power

    def apply(
        self, name: str, argument: sympy.Basic, base: sympy.Basic | None, power: sympy.Basic | None
    ) -> tuple[sympy.Basic, sympy.Basic | None]:
        """convert_func for one argument: returns the call and the power still to apply."""
        if name in _TRIG:
            if power is not None and power == -1:
                return getattr(sf, "a" + name)(argument, evaluate=False), None
            return getattr(sf, name)(argument, evaluate=False), power
        if name in _SYMPY_NAMES:
            return getattr(sf, _SYMPY_NAMES[name])(argument, evaluate=False), power
        if name in ("log", "ln"):
            default = sympy.Integer(10) if name == "log" else sympy.E  # log(x, E) prints E: fails later
            return sympy.log(argument, default if base is None else base, evaluate=False), power
        if name == "exp":
            bounded(argument)
            return sympy.exp(argument), power
        if name == "floor":
            return sf.floor(argument, evaluate=False), power
        raise Rejected(name)  # ceiling, matrix operators: no `math` name

    def gcd_lcm(self, name: str) -> sympy.Basic:
        """latex2sympy re-parses the argument *text* split on every comma, so `\\gcd(2,000, 10)` is
        gcd(2, 0, 10); it then nsimplifies them (not used here: it sympifies a string internally), so
        only integral arguments are accepted."""
        start = self.pos + (2 if self.at("LEFT") else 1)
        self.parenthesised(several=True)
        end = self.pos - (2 if self.tokens[self.pos - 2].kind == "RIGHT" else 1)
        text = "".join(token.text for token in self.tokens[start:end])
        values = [_integral(to_sympy(part)) for part in text.split(",")]
        result = math.gcd(*values) if name == "gcd" else math.lcm(*values)
        return sympy.UnevaluatedExpr(sympy.Integer(result))

    def opens_parenthesis(self) -> bool:
        if self.at("LEFT"):
            return self.peek(1).text == "("
        return self.at("OPEN", "(")

    def parenthesised(self, several: bool) -> list[sympy.Basic]:
        """`( x, ... )` with an optional `\\left` / `\\right` on either side independently."""
        if self.at("LEFT"):
            self.take("LEFT")
        self.take("OPEN", text="(")
        arguments = [self.expr()]
        while several and self.at("COMMA"):
            self.take("COMMA")
            arguments.append(self.expr())
        if self.at("RIGHT"):
            self.take("RIGHT")
        self.take("CLOSE", text=")")
        return arguments

    def square_root(self) -> sympy.Basic:
        """`\\sqrt{x}` is x**(1/2) (printed sqrt(x)); `\\sqrt[n]{x}` is x**(1/n) with sympy's 1/n."""
        self.take("SQRT")
        root = None
        if self.at("OPEN", "["):
            self.take("OPEN")
            root = self.expr()
            self.take("CLOSE", text="]")
        radicand = self.braced()
        exponent = sympy.S.Half if root is None else 1 / root
        return sympy.Pow(radicand, exponent, evaluate=False)


def _integral(value: sympy.Basic) -> int:
    """The integer a gcd/lcm argument stands for: a literal integer, or an expression whose value is a
    whole number below 2**53 (beyond that, nsimplify goes through floats: `\\gcd(3^{45}, 45)` is 1 there).
    Anything else is refused."""
    if value.is_Integer:
        return int(value)
    number = evaluate_in_math_namespace(str(value))
    if isinstance(number, bool) or abs(number) >= 2**53 or not float(number).is_integer():
        raise Rejected("gcd of a non-integer")
    return int(number)
