"""Lexer for `latex_value`: the token set of the latex2sympy2 1.9.1 grammar (PS.g4), grouped by role.

Matching is longest-first over every token, as an ANTLR lexer does: `\\cdots` is `\\cdot` then the
letter `s`, `\\leq` beats `\\le`, `trees` starts with the keyword `tr`, `1,234` is one number, `5.` is
the number 5 then a period. Whitespace is skipped. The first character no token matches becomes an
ERROR token and ends the list; the parser fails only if it gets that far, so `5.°` still reads as 5
while `5°` and `5 °` fail.

Roles (`Token.kind`): arithmetic (ADD, SUB, MUL, DIV), structure (OPEN/CLOSE with `detail` holding the
matching closer, LEFT/RIGHT for `\\left`/`\\right`, FLOOR), NUM (with its exact value), PI, FRAC, BINOM,
CHOOSE, SQRT, FUNC, MULTI (gcd, lcm), OPNAME, EXP_E (`e`), REL (`detail` is a Python comparison),
BANG, TRANSPOSE, CARET, UNDERSCORE, COMMA, SEMI; OTHER for valid tokens that start nothing (keywords
like `rows`, `.`, `&`, `\\to`), which end an expression quietly; SYM (letters, Greek, other symbols,
differentials, `\\infty`) and FAIL (constructs whose print-out uses a name `math` lacks, or that raise
while converting), which fail wherever the parser meets them.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import NamedTuple

MAX_E_NOTATION_EXPONENT = 100_000


class Rejected(Exception):
    """The official pipeline raises somewhere for this text (syntax, unknown name, math error)."""


class Token(NamedTuple):
    kind: str
    text: str
    number: Fraction = Fraction(0)
    detail: str = ""


_PAIRS = {
    "(": ")",
    "\\lgroup": "\\rgroup",
    "{": "}",
    "\\{": "\\}",
    "\\lbrace": "\\rbrace",
    "[": "]",
    "\\lbrack": "\\rbrack",
}
_FLOORS = {"\\lfloor": "\\rfloor", "\\llcorner": "\\lrcorner"}
_RELATIONS = {
    "<": "<",
    "\\leq": "<=",
    "\\le": "<=",
    "\\leqslant": "<=",
    ">": ">",
    "\\geq": ">=",
    "\\ge": ">=",
    "\\geqslant": ">=",
}
_BY_KIND = {
    "ADD": "+",
    "SUB": "-",
    "MUL": "* \\times \\cdot",
    "DIV": "/ \\over \\div :",
    "CLOSE": ") \\rgroup } \\} \\rbrace ] \\rbrack \\rfloor \\lrcorner \\rvert \\rceil \\urcorner",
    "LEFT": "\\left \\mleft",
    "RIGHT": "\\right \\mright",
    "FRAC": "\\frac",
    "BINOM": "\\binom \\tbinom \\dbinom",
    "CHOOSE": "\\choose",
    "SQRT": "\\sqrt",
    "FUNC": "\\log \\ln \\exp \\sin \\cos \\tan \\arcsin \\arccos \\arctan \\sinh \\cosh \\tanh \\arsinh "
    "\\arcosh \\artanh \\arcsinh \\arccosh \\arctanh \\floor",
    "MULTI": "\\gcd \\lcm",
    "OPNAME": "\\operatorname",
    "EXP_E": "\\exponentialE",
    "PI": "\\pi",
    "BANG": "!",
    "TRANSPOSE": "' ^T ^{T} ^{\\top}",
    "CARET": "^",
    "UNDERSCORE": "_",
    "COMMA": ",",
    "SEMI": ";",
    "OTHER": ". & \\\\ E \\to \\rightarrow \\Rightarrow \\longrightarrow \\Longrightarrow \\xrightarrow "
    "\\xRightarrow \\leftrightarrow \\Leftrightarrow <-> <=> \\end{matrix} \\end{pmatrix} \\end{bmatrix} "
    "\\end{vmatrix} arsinh arcsinh arcosh arccosh artanh arctanh gcd lcm floor ceil eye zeros ones cols "
    "rows diag norm rank trace tr rref hstack vstack orth ortho orthogonal orthogonalize nullspace eig "
    "eigen diagonalize eigenvals eigenvalues eigenvects eigenvectors svd SVD matrix pmatrix bmatrix "
    "vmatrix",
    # Absolute values, ceilings, norms, big operators, matrices, Mod, csc/sec/cot, Max/Min, Eq/Ne.
    "FAIL": "| \\lvert \\vert \\| \\lceil \\ulcorner \\int \\sum \\prod \\lim \\mod \\csc \\sec \\cot "
    "\\arccsc \\arcsec \\arccot \\ceil \\det \\max \\min = == \\equiv != !== \\ne \\neq \\not\\equiv \\in "
    "\\begin{matrix} \\begin{pmatrix} \\begin{bmatrix} \\begin{vmatrix} \\mathit \\acute \\bar \\overline "
    "\\breve \\check \\widecheck \\dot \\ddot \\grave \\hat \\tilde \\widetilde \\vec \\overrightarrow \\bm "
    "\\boldsymbol \\text \\textit \\mathbb \\mathbin \\mathbf \\mathcal \\mathclap \\mathclose "
    "\\mathellipsis \\mathfrak \\mathinner \\mathnormal \\mathop \\mathopen \\mathord \\mathpunct "
    "\\mathrel \\mathring \\mathrlap \\mathrm \\mathscr \\mathsf \\mathsterling \\mathtt",
    "SYM": "\\infty \\partial \\emptyset \\alpha \\beta \\Gamma \\gamma \\Delta \\delta \\epsilon "
    "\\varepsilon \\zeta \\eta \\Theta \\theta \\vartheta \\iota \\kappa \\Lambda \\lambda \\mu \\nu \\Xi "
    "\\xi \\omicron \\Pi \\varpi \\rho \\varrho \\Sigma \\sigma \\varsigma \\tau \\Upsilon \\upsilon \\Phi "
    "\\phi \\varphi \\chi \\Psi \\psi \\Omega \\omega \\Bbbk \\wp \\nabla \\bigstar \\angle \\nexists "
    "\\diagdown \\measuredangle \\eth \\diagup \\sphericalangle \\clubsuit \\varnothing \\Diamond "
    "\\complement \\diamondsuit \\imath \\Finv \\triangledown \\heartsuit \\jmath \\Game \\triangle "
    "\\spadesuit \\ell \\hbar \\vartriangle \\hslash \\blacklozenge \\lozenge \\blacksquare \\mho "
    "\\blacktriangle \\sharp \\prime \\Im \\flat \\square \\backprime \\Re \\natural \\surd \\circledS",
}


def _literal_tokens() -> dict[str, Token]:
    tokens = {text: Token(kind, text) for kind, texts in _BY_KIND.items() for text in texts.split()}
    tokens.update({text: Token("OPEN", text, detail=closer) for text, closer in _PAIRS.items()})
    tokens.update({text: Token("FLOOR", text, detail=closer) for text, closer in _FLOORS.items()})
    tokens.update({text: Token("REL", text, detail=op) for text, op in _RELATIONS.items()})
    return tokens


_LITERALS = _literal_tokens()
# Candidates per first character, longest first, so the first hit is the longest literal match.
_BY_FIRST_CHAR = {
    first: tuple(sorted((text for text in _LITERALS if text[0] == first), key=len, reverse=True))
    for first in {text[0] for text in _LITERALS}
}
_INTEGER = re.compile(r"[0-9]+(?:,[0-9]{3})*")
_DECIMAL = re.compile(r"[0-9]*(?:,[0-9]{3})*\.[0-9]+")
_E_SUFFIX = re.compile(r"E[+-]?([0-9]+)")
_DIFFERENTIAL = re.compile(r"d[ \t\r\n]*(?:[a-zA-Z]|\\[a-zA-Z]+)")


def tokenize(text: str) -> list[Token]:
    """All tokens of `text`, ending with EOF, or with ERROR at the first unlexable character."""
    tokens = []
    pos = 0
    while pos < len(text):
        if text[pos] in " \t\r\n":
            pos += 1
            continue
        token = _token_at(text, pos)
        if token is None:
            tokens.append(Token("ERROR", text[pos]))
            return tokens
        tokens.append(token)
        pos += len(token.text)
    tokens.append(Token("EOF", ""))
    return tokens


def _token_at(text: str, pos: int) -> Token | None:
    """The longest token starting at `pos`; on equal length the grammar's earlier rule (literals) wins."""
    best = None
    for candidate in (_literal_at(text, pos), _number_at(text, pos), _word_at(text, pos)):
        if candidate is not None and (best is None or len(candidate.text) > len(best.text)):
            best = candidate
    return best


def _literal_at(text: str, pos: int) -> Token | None:
    for literal in _BY_FIRST_CHAR.get(text[pos], ()):
        if text.startswith(literal, pos):
            return _LITERALS[literal]
    return None


def _number_at(text: str, pos: int) -> Token | None:
    """NUMBER, PERCENT_NUMBER (`5\\%` is 1/20) or E_NOTATION (`1E5`), with the value sympy.Rational gives."""
    matches = [m.group() for m in (_INTEGER.match(text, pos), _DECIMAL.match(text, pos)) if m]
    if not matches:
        return None
    number = max(matches, key=len)
    end = pos + len(number)
    scale = Fraction(1)
    suffix = _E_SUFFIX.match(text, end)
    if suffix:
        digits = suffix.group(1)
        if len(digits) > 6 or int(digits) > MAX_E_NOTATION_EXPONENT:
            return Token("FAIL", text[pos : suffix.end()])
        number += suffix.group()
    elif text.startswith("\\%", end):
        number += "\\%"
        scale = Fraction(1, 100)
    try:
        value = Fraction(number.replace(",", "").replace("\\%", "")) * scale
    except ValueError:  # more digits than int() accepts: sympy raises as well
        return Token("FAIL", number)
    return Token("NUM", number, value)


def _word_at(text: str, pos: int) -> Token | None:
    """Single letters (`e` is Euler's e, `E` is a literal) and differentials such as `dx` or `d\\frac`."""
    differential = _DIFFERENTIAL.match(text, pos)
    if differential:
        return Token("SYM", differential.group())
    char = text[pos]
    if char == "e":
        return Token("EXP_E", char)
    if char.isascii() and char.isalpha() and char != "E":
        return Token("SYM", char)
    return None
