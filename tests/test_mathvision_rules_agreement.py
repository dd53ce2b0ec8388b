"""`score_response` against the official MATH-V scorer on the 16 published model outputs (48,640 items).

The verdict files hold the official scorer's rerun (`correct`, `model_answer`). Where the rerun and the
published file differ, the rerun is the reference: Gemini-Pro id 3013 ("4/3" against "\\frac{4}{3}") is
correct there and here, though published as wrong. Needs ../shared/realdata/mathvision (skips without).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vlmeval.tasks.mathvision_rules import score_response

pytestmark = pytest.mark.realdata

MATHVISION = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "mathvision"
MODELS = [
    "ChatGPT3.5-CoT_Text-Image_Caption", "GPT4-CoT_Text_Only", "Gemini-Pro", "Gemini-Pro-CoT",
    "InternLM-XComposer2-VL", "InternLM-XComposer2-VL-CoT", "LLaVA-v1.5-13B", "LLaVA-v1.5-7B",
    "Qwen-VL-Max", "Qwen-VL-Max-CoT", "Qwen-VL-Plus", "Random-Chance", "SPHINX-MoE", "SPHINX-v2",
    "ShareGPT4V-13B", "ShareGPT4V-7B",
]
# Items whose extracted answer may differ from the official rerun's `model_answer`, per model, each with
# its reason. Empty: every extracted answer is the official one.
ANSWER_DIFFERENCES_ALLOWED: dict[str, dict[str, str]] = {}


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def problems() -> dict[str, dict]:
    if not (MATHVISION / "test.jsonl").is_file():
        pytest.skip(f"MATH-V real data is not present at {MATHVISION}")
    return {row["id"]: row for row in read_jsonl(MATHVISION / "test.jsonl")}


@pytest.mark.parametrize("model", MODELS)
def test_every_verdict_and_extracted_answer_matches(model: str, problems: dict[str, dict]) -> None:
    verdicts = read_jsonl(MATHVISION / "verdicts" / f"official_verdicts_{model}.jsonl")
    official = {row["id"]: row for row in verdicts}
    outputs = read_jsonl(MATHVISION / "outputs" / f"{model}.jsonl")
    assert len(outputs) == len(official) == len(problems) == 3040
    wrong_verdicts, other_answers, correct_count = [], {}, 0
    for output in outputs:
        problem, reference = problems[output["id"]], official[output["id"]]
        correct, extracted = score_response(output["response"], str(problem["answer"]), problem["options"])
        correct_count += correct
        if correct != reference["correct"]:
            wrong_verdicts.append(output["id"])
        if extracted != reference["model_answer"]:
            other_answers[output["id"]] = (extracted, reference["model_answer"])
    assert wrong_verdicts == [], f"{model}: {len(wrong_verdicts)} verdicts differ: {wrong_verdicts[:10]}"
    assert correct_count == sum(row["correct"] for row in official.values())
    allowed = ANSWER_DIFFERENCES_ALLOWED.get(model, {})
    unexplained = {item: pair for item, pair in other_answers.items() if item not in allowed}
    assert unexplained == {}, f"{model}: {len(unexplained)} answers differ: {list(unexplained.items())[:5]}"


def test_the_rerun_not_the_published_file_is_the_reference(problems: dict[str, dict]) -> None:
    outputs = read_jsonl(MATHVISION / "outputs" / "Gemini-Pro.jsonl")
    (output,) = [row for row in outputs if row["id"] == "3013"]
    problem = problems["3013"]
    assert score_response(output["response"], problem["answer"], problem["options"]) == (True, "4/3")
    assert output["correct"] is False  # as published
