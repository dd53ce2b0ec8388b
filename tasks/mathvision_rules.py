"""The MATH-V rule-based scorer, decided item for item as the official one decides.

Reproduces mathllm/MATH-V at commit a1f5cc3, `evaluation/evaluate.py` (answer extraction, run with
`regen_answer=True`) and `evaluation/utils.py` (`find_math_answer`, `_strip_string`, `is_equal`). Checked on
the 16 published outputs (48,640 items): the same `model_answer` and the same `correct` as the official
rerun on every item. Quirks reproduced on purpose, with examples (response -> extracted answer):

- Letter shortcuts only for A-E at fixed places: "so it is (C)." -> "c", "B\\nbecause" -> "b"; the first
  letter in A-E order wins ("A\\nsince the answer is C." -> "a").
- A float (Python's float(), so "nan" and "1_000" count) after the last "is " is the answer:
  "The area is 12." -> "12", "the final answer is 3. the answer is 4" -> "4".
- A parenthesised letter glued to what follows keeps both: "(D) 4" -> "d4" (the "(d)" -> "d" rewrite
  runs after spaces are gone), so it matches neither "D" nor the option text.
- "... the answer is X" splitting only when no box is present, keeping X's first line and first sentence;
  the lower-case flag runs before the capitalised one: "The answer is 5. Done" -> "5".
- A greedy box regex: the text between the first "oxed{" kept and the LAST "}" of the answer, then cut
  at a "}" with no "{" before it: "\\boxed{3} cm}" -> "3".
- Everything lower-cased and every space removed; "units", "km" and "m^3" deleted anywhere
  ("kmh" -> "h"); only the part after the last "=" or "\\approx" is kept ("x=2" -> "2").
- `_fix_fracs` runs only when "sqrt" is in the text ("\\frac12" stays unbraced, and then has no value:
  latex2sympy's grammar wants braces); "0.5" becomes "\\frac{1}{2}"; "3/4" becomes "\\frac{3}{4}".
- Equality (`is_equal`): case-insensitive text first, then "(a,b)" / "[a,b]" tuples rewritten element
  by element as `round(value, 2)` (all elements, or the tuple stays as written), then the `round(., 2)`
  values of both sides, as `eval(str(latex2sympy(x)))` computed them; `latex_value` gives that number
  without eval. The answer counts if it equals the letter or the text of the correct option.
- Where the official rerun and the published verdicts differ, the rerun is followed: Gemini-Pro id 3013,
  "4/3" against "\\frac{4}{3}", is correct.
"""

from __future__ import annotations

import re

from vlmeval.scoring.latex_value import latex_value

ANSWER_FLAGS = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")
OPTION_LETTERS = "ABCDE"
# find_math_answer's clean-up, in the official order (an earlier rewrite can create a later match).
MATH_ANSWER_REWRITES = (
    (" ", ""), ("\\,", ""), ("∞", "\\infty"), ("+\\infty", "\\infty"), ("\\\\", "\\"), ("\n", ""),
    ("\\text", ""), ("\\mbox", ""), ("bmatrix", "pmatrix"), ("\\left", ""), ("\\right", ""),
    ("^{\\circ}", ""), ("^\\circ", ""), ("{m}^3", ""), ("m^3", ""), ("{units}", ""), ("units", ""),
    ("{km}", ""), ("km", ""),
)
STRIP_STRING_REWRITES = (
    ("\n", ""), ("\\!", ""), ("\\\\", "\\"), ("tfrac", "frac"), ("dfrac", "frac"), ("\\left", ""),
    ("\\right", ""), ("^{\\circ}", ""), ("^\\circ", ""), ("\\$", ""), ("$", ""),
)
GREEDY_BOX = re.compile(r"oxed{(.*)}", flags=re.S)


def score_response(response: str, answer: str, options: list[str]) -> tuple[bool, str]:
    """(correct, extracted answer) for one item: `answer` is a letter when `options` is non-empty.

    An `answer` that is not a letter naming one of the options (the official script would crash on it;
    no MATH-V item has one) is compared as text only.
    """
    extracted = extract_answer(response)
    index = ord(answer) - ord("A") if len(answer) == 1 else -1
    option_text = options[index] if 0 <= index < len(options) else ""
    return is_equal(answer, extracted) or is_equal(option_text, extracted), extracted


def extract_answer(response: str) -> str:
    """The official `model_answer`: "It is (C)." -> "c", "\\boxed{\\dfrac{4}{3}}" -> "\\frac{4}{3}"."""
    text = _letter_shortcut(response.strip())
    tail = text.split("is ")[-1].rstrip(".")
    if _is_float(tail):  # "The area is 12." -> "12"
        text = tail
    if "oxed{" not in text:
        for flag in ANSWER_FLAGS:
            text = _after_flag(text, flag)
            text = _after_flag(text, flag.replace("the", "The"))
    elif text.count("oxed{") > 1:
        text = "\\boxed{" + text.split("oxed{")[-1]
    text = find_math_answer(text)
    for letter in "abcde":
        text = text.replace(f"({letter})", letter).replace("{" + letter + "}", letter)
    return text.rstrip(".").lstrip(":").strip()


def _letter_shortcut(text: str) -> str:
    """A-E stated at the end (" C.", " (C).") or the start ("C\\n", "(C)\\n", "(C) C\\n").

    The first letter in A-E order that matches wins ("A\\n... so C." -> "A"): the official loop goes on,
    but a text already cut down to one letter cannot match another.
    """
    for letter in OPTION_LETTERS:
        ends = text.endswith((f" {letter}.", f" ({letter})."))
        starts = text.startswith((f"{letter}\n", f"({letter})\n", f"({letter}) {letter}\n"))
        if ends or starts:
            return letter
    return text


def _after_flag(text: str, flag: str) -> str:
    """Text after the last `flag`; where the flag occurs, only its first line and first sentence."""
    after = text.split(flag)[-1].strip()
    return after.split("\n")[0].split(". ")[0] if flag in text else after


def _is_float(text: str) -> bool:
    """Python's float(): so "inf", "nan", "1_000" and " 12 " count as numbers, as in the official."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def find_math_answer(text: str) -> str:
    """Lower-case, take the last (greedy) box, the part after "=", clean LaTeX and units, then strip."""
    text = text.lower().replace("{}", "")
    boxes = GREEDY_BOX.findall(text)
    answer = boxes[-1] if boxes else text
    close, opening = answer.find("}"), answer.find("{")
    if close != -1 and (opening == -1 or close < opening):
        answer = answer.split("}")[0]
    answer = answer.split("=")[-1].split("\\approx")[-1]
    for old, new in MATH_ANSWER_REWRITES:
        answer = answer.replace(old, new)
    return strip_string(answer)


def strip_string(text: str) -> str:
    """The MATH-style normaliser: "\\dfrac12" -> "\\frac12", ".5" -> "\\frac{1}{2}", "3/4" -> "\\frac{3}{4}".
    """
    for old, new in STRIP_STRING_REWRITES:
        text = text.replace(old, new)
    # The official removes "\\%" twice; the second pass matters for "\\\\%%" (two backslashes left by
    # the earlier "\\\\" -> "\\" rewrite of three).
    text = text.split("\\text{ ")[0].replace("\\%", "").replace("\\%", "")
    text = text.replace(" .", " 0.").replace("{.", "{0.")
    if not text:
        return text
    if text[0] == ".":
        text = "0" + text
    for separator in ("=", "\\approx"):
        if len(text.split(separator)) == 2:
            text = text.split(separator)[-1]
    if "sqrt" in text:
        text = _brace_sqrt(text)
    text = text.replace(" ", "")
    if "sqrt" in text:  # the official fixes fractions only in texts that mention sqrt
        text = _brace_fracs(text)
    if text == "0.5":
        text = "\\frac{1}{2}"
    return _slash_to_frac(text)


def _brace_sqrt(text: str) -> str:
    """"\\sqrt2" -> "\\sqrt{2}"; a braced argument is left alone."""
    head, *pieces = text.split("\\sqrt")
    for piece in pieces:
        head += "\\sqrt{" + piece[0] + "}" + piece[1:] if piece and piece[0] != "{" else "\\sqrt" + piece
    return head


def _brace_fracs(text: str) -> str:
    """"\\frac12" -> "\\frac{1}{2}", "\\frac1{2}" -> "\\frac{1}{2}"; a piece under 2 characters aborts."""
    head, *pieces = text.split("\\frac")
    for piece in pieces:
        head += "\\frac"
        if piece and piece[0] == "{":
            head += piece
        elif len(piece) < 2:
            return text
        elif piece[1] != "{":
            head += "{" + piece[0] + "}{" + piece[1] + "}" + piece[2:]
        else:
            head += "{" + piece[0] + "}" + piece[1:]
    return head


def _slash_to_frac(text: str) -> str:
    """"3/4" -> "\\frac{3}{4}" only when both sides are integers written canonically ("03/4" stays)."""
    parts = text.split("/")
    if len(parts) != 2:
        return text
    try:
        top, bottom = int(parts[0]), int(parts[1])
    except ValueError:
        return text
    return f"\\frac{{{top}}}{{{bottom}}}" if text == f"{top}/{bottom}" else text


def is_equal(answer: str, reference: str) -> bool:
    """Official equality: text, then evaluated tuples, then values rounded to 2 decimals.

    "\\frac{4}{3}" ~ "1.33" (both round to 1.33); "(1,2)" ~ "(1.0,2)"; "a" vs "A" is equal (case-folded);
    "x" never equals anything but "x" (a letter has no value); "" and " " equal nothing.
    """
    answer, reference = answer.lower(), reference.lower()
    if not answer.replace(" ", "") or not reference.replace(" ", ""):
        return False
    if answer.strip() == reference.strip():
        return True
    answer, reference = evaluate_tuple(answer), evaluate_tuple(reference)
    if answer == reference:
        return True
    return _same_rounded(latex_value(reference), latex_value(answer))


def evaluate_tuple(text: str) -> str:
    """"(2*3, 5+2)"-style tuples and lists element by element: "(\\frac{1}{2},3)" -> "(0.5,3)".

    Elements containing "infty" and the bare letters "a" / "-a" are kept as written; if any other element
    has no value, the whole text stays as it was.
    """
    elements = text[1:-1].split(",")
    if (text[0], text[-1]) not in (("(", ")"), ("[", "]")) or len(elements) < 2:
        return text
    rewritten = []
    for element in elements:
        if "infty" in element or element in ("a", "-a"):
            rewritten.append(element)
            continue
        rounded = _rounded(latex_value(element))
        if rounded is None:
            return text
        try:
            rewritten.append(str(rounded))
        except ValueError:  # an int over Python's 4300-digit str() limit: the official falls back too
            return text
    return text[0] + ",".join(rewritten) + text[-1]


def _rounded(value: int | float | None) -> int | float | None:
    if value is None:
        return None
    try:
        return round(value, 2)
    except (OverflowError, TypeError, ValueError):  # round(inf), round(nan) raise in the official too
        return None


def _same_rounded(left: int | float | None, right: int | float | None) -> bool:
    a, b = _rounded(left), _rounded(right)
    return a is not None and b is not None and a == b
