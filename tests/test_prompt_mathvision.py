"""Golden prompts for MathVision: the exact bytes the model receives."""

from __future__ import annotations

from vlmeval.templates import render_template, template_hash


def test_free_form_question_is_sent_verbatim() -> None:
    question = "Which number should be written in place of the question mark?\n<image1>"
    assert render_template("mathvision", {"question": question, "options": []}) == question


def test_choices_follow_the_question_one_per_line() -> None:
    options = ["1", "2", "$\\frac{1}{2}$", "4", "5"]
    fields = {"question": "How long is the path?\n<image1>", "options": options}
    assert render_template("mathvision", fields) == (
        "How long is the path?\n<image1>\n(A) 1\n(B) 2\n(C) $\\frac{1}{2}$\n(D) 4\n(E) 5"
    )


def test_letter_only_options_are_left_to_the_image() -> None:
    fields = {"question": "Which kite has the longest string?\n<image1>", "options": list("ABCDE")}
    assert render_template("mathvision", fields) == "Which kite has the longest string?\n<image1>"


def test_template_hash_is_stable_and_content_addressed() -> None:
    assert template_hash("mathvision") == template_hash("mathvision")
    assert len(template_hash("mathvision")) == 64
