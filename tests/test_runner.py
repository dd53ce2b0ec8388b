"""The runner end to end with the scripted engine: store, resume, errors, scoring, manifest."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import right_answer

from vlmeval.engines.scripted import ScriptedEngine
from vlmeval.registry import register_task
from vlmeval.runner import RunError, RunOptions, run
from vlmeval.scoring.exact import exact_match
from vlmeval.scoring.metrics import summarize
from vlmeval.task import DataSource, Task
from vlmeval.types import ImageRef, Request, Sample, TextPart


def toy_sample(row: Mapping[str, Any]) -> Sample:
    image = row["decoded_image"]
    return Sample(str(row["id"]), str(2 * int(row["id"])), {"question": row["question"], "options": []},
                  (image,) if isinstance(image, ImageRef) else (), {"level": row["level"]})


TOY = register_task(Task(
    name="toy-mathvision", description="fixture task", default_split="test", template="mathvision",
    source=DataSource("org/toy", "0" * 40, {"test": 12}, image_fields=("decoded_image",)),
    to_sample=toy_sample, score=exact_match, group_by=("level",),
))


def perfect(request: Request) -> str:
    text = next(p.text for p in request.messages[0].content if isinstance(p, TextPart))
    return right_answer(text)


def options(data_dir: Path, out: Path, **kwargs: Any) -> RunOptions:
    return RunOptions(task="toy-mathvision", model="qwen3-vl-2b-instruct", data_dir=data_dir,
                      output_dir=out, show_progress=False, score_workers=1, **kwargs)


def test_run_scores_and_records_everything(mathvision_dir: Path, tmp_path: Path) -> None:
    engine = ScriptedEngine(perfect)
    result = run(options(mathvision_dir, tmp_path / "results"), engine)
    assert result["metrics"]["overall"]["mean"] == 1.0 and result["metrics"]["overall"]["n"] == 12
    run_dir = Path(result["run_dir"])
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["model"]["sampling"]["temperature"] == 0.7
    assert manifest["media_limits"] == {"min_pixels": 4 * 32 * 32, "max_pixels": 16384 * 32 * 32}
    assert manifest["data"]["kind"] == "local" and len(manifest["data"]["sha256"]) == 64
    assert len(manifest["template_sha256"]) == 64 and manifest["environment"]["python"]
    assert manifest["engine"]["engine"] == "scripted"
    assert len((run_dir / "responses.jsonl").read_text().splitlines()) == 12
    assert len((run_dir / "scores.jsonl").read_text().splitlines()) == 12


def test_rerun_asks_only_for_missing_items(mathvision_dir: Path, tmp_path: Path) -> None:
    first = ScriptedEngine(perfect)
    run(options(mathvision_dir, tmp_path, limit=5), first)
    assert len(first.calls) == 5
    second = ScriptedEngine(perfect)
    result = run(options(mathvision_dir, tmp_path, resume=True), second)
    assert len(second.calls) == 7 and result["generation"]["already_answered"] == 5
    third = ScriptedEngine(perfect)
    run(options(mathvision_dir, tmp_path), third)
    assert third.calls == []


def test_failed_items_are_recorded_scored_zero_and_retried(mathvision_dir: Path, tmp_path: Path) -> None:
    def flaky(request: Request) -> str:
        if request.sample_id == "3":
            raise ConnectionError("server went away")
        return perfect(request)

    result = run(options(mathvision_dir, tmp_path), ScriptedEngine(flaky))
    assert result["metrics"]["overall"]["errors"] == 1
    scores = [json.loads(line) for line in (Path(result["run_dir"]) / "scores.jsonl").open()]
    failed = next(s for s in scores if s["id"] == "3")
    assert failed["score"] == 0.0 and "server went away" in failed["error"]
    retry = ScriptedEngine(perfect)
    result = run(options(mathvision_dir, tmp_path), retry)
    assert retry.calls == ["3"] and result["metrics"]["overall"]["mean"] == 1.0


def test_settings_that_move_scores_change_the_run(mathvision_dir: Path, tmp_path: Path) -> None:
    a = run(options(mathvision_dir, tmp_path), ScriptedEngine(perfect))
    greedy = options(mathvision_dir, tmp_path, sampling_overrides={"temperature": 0.0})
    b = run(greedy, ScriptedEngine(perfect))
    assert a["run_dir"] != b["run_dir"]


def test_resume_without_an_earlier_run_is_an_error(mathvision_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(RunError, match="--resume"):
        run(options(mathvision_dir, tmp_path, resume=True), ScriptedEngine(perfect))


def test_requests_carry_images_and_the_rendered_prompt(mathvision_dir: Path, tmp_path: Path) -> None:
    seen: list[Request] = []

    def record(request: Request) -> str:
        seen.append(request)
        return perfect(request)

    run(options(mathvision_dir, tmp_path, limit=1), ScriptedEngine(record))
    (message,) = seen[0].messages
    assert message.content[0].image.open().size == (96, 64)
    assert message.content[1].text == "What is 1 + 1?\n<image1>"
    assert seen[0].sampling.max_tokens == 32768


def both_of_a_pair_right(records: Sequence[Mapping[str, Any]], group_by: Sequence[str]) -> dict[str, Any]:
    """An MME-style acc+: items 1-2, 3-4, ... form pairs; a pair counts when both are right."""
    scores = {int(r["meta"]["id"]): r["score"] for r in records}
    pairs = [scores[i] == scores[i + 1] == 1.0 for i in range(1, len(scores), 2)]
    return {**summarize(records, group_by), "pairs_both_right": sum(pairs) / len(pairs)}


PAIRED = register_task(replace(TOY, name="toy-paired", aggregate=both_of_a_pair_right,
                               to_sample=lambda row: replace(toy_sample(row), meta={"id": row["id"]})))


def test_a_task_can_bring_its_own_aggregate(mathvision_dir: Path, tmp_path: Path) -> None:
    def wrong_on_three(request: Request) -> str:
        return "0" if request.sample_id == "3" else perfect(request)

    run_options = replace(options(mathvision_dir, tmp_path), task="toy-paired")
    metrics = run(run_options, ScriptedEngine(wrong_on_three))["metrics"]
    assert metrics["overall"]["mean"] == 11 / 12
    assert metrics["pairs_both_right"] == 5 / 6  # the pair (3, 4) is lost
