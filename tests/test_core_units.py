"""Store, metrics, model specs, data loading and the scoring pool, each on its own."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vlmeval.data import DataLoadError, load_split
from vlmeval.models.spec import ModelSpecError, resolve_model, strip_thinking
from vlmeval.scoring.exact import exact_match
from vlmeval.scoring.metrics import mean_stderr, summarize
from vlmeval.scoring.pool import ScoreJob, score_all
from vlmeval.store import RunStore
from vlmeval.task import DataSource
from vlmeval.types import ImageRef, ItemScore, Response


def test_store_keeps_answers_and_ignores_a_torn_last_line(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run")
    with store.appender() as appender:
        appender.append(Response("1", "four"))
        appender.append(Response("2", "", error="HTTP 500"))
    with store.responses_path.open("a") as handle:
        handle.write('{"id": "3", "text": "tor')  # killed mid-write
    assert set(store.answered()) == {"1"}
    assert set(store.failed()) == {"2"}
    with store.appender() as appender:
        appender.append(Response("2", "fine now"))
    assert store.answered()["2"].text == "fine now"
    assert store.failed() == {}


def test_mean_stderr_matches_the_textbook_formula() -> None:
    stats = mean_stderr([1.0, 0.0, 1.0, 1.0])
    assert stats["mean"] == 0.75
    assert stats["stderr"] == pytest.approx(math.sqrt(0.25 / 4))
    assert math.isnan(mean_stderr([])["mean"])


def test_summarize_groups_and_counts_errors() -> None:
    records = [
        {"score": 1.0, "meta": {"level": 1}}, {"score": 0.0, "meta": {"level": 2}, "error": "no answer"},
        {"score": 1.0, "meta": {"level": 10}},
    ]
    summary = summarize(records, ["level"])
    assert summary["overall"]["errors"] == 1
    assert list(summary["groups"]["level"]) == ["1", "2", "10"]  # numeric order, not text order


def test_presets_carry_the_reports_sampling_and_overrides_win() -> None:
    spec = resolve_model("qwen3-vl-8b-instruct")
    assert spec.kind == "vllm" and spec.model_id == "Qwen/Qwen3-VL-8B-Instruct"
    assert (spec.sampling.temperature, spec.sampling.top_p, spec.sampling.top_k) == (0.7, 0.8, 20)
    assert (spec.sampling.presence_penalty, spec.sampling.max_tokens) == (1.5, 32768)
    thinking = resolve_model("qwen3-vl-235b-a22b-thinking", {"max_tokens": 1000})
    assert thinking.thinking and thinking.sampling.temperature == 0.6
    assert thinking.sampling.max_tokens == 1000
    assert resolve_model("qwen3-vl-8b-thinking").sampling.temperature == 1.0
    served = resolve_model("openai:qwen3-vl-2b-instruct")
    assert served.kind == "openai" and served.sampling.seed == 3407


def test_explicit_models_need_explicit_sampling() -> None:
    with pytest.raises(ModelSpecError, match=r"--max-tokens"):
        resolve_model("Org/SomeVLM")
    spec = resolve_model("openai:my-model", {"max_tokens": 64, "temperature": 0.0}, strip_thinking=True)
    assert spec.kind == "openai" and spec.thinking and spec.sampling.temperature == 0.0
    with pytest.raises(ModelSpecError, match="unknown model"):
        resolve_model("not-a-preset")


def test_strip_thinking_keeps_what_follows_the_last_close_tag() -> None:
    assert strip_thinking("<think>a</think> b </think> The answer is 4.") == "The answer is 4."
    assert strip_thinking("no tags") == "no tags"


def test_local_jsonl_rows_get_image_refs_relative_to_the_folder(tmp_path: Path) -> None:
    (tmp_path / "test.jsonl").write_text(json.dumps({"id": 1, "image": "images/1.jpg"}) + "\n")
    source = DataSource("org/x", "abc", {"test": 1}, image_fields=("image",))
    loaded = load_split(source, "test", tmp_path)
    assert loaded.rows[0]["image"] == ImageRef(path=str(tmp_path / "images/1.jpg"))
    assert loaded.origin["kind"] == "local" and len(loaded.origin["sha256"]) == 64


def test_hub_parquet_copy_gives_image_bytes(mathvision_dir: Path) -> None:
    source = DataSource("org/x", "abc", {"test": 12}, image_fields=("decoded_image", "image"))
    rows = load_split(source, "test", mathvision_dir).rows
    assert len(rows) == 12
    assert rows[0]["decoded_image"].data.startswith(b"\x89PNG")
    assert rows[0]["decoded_image"].open().size == (96, 64)


def test_data_errors_are_clear(tmp_path: Path) -> None:
    source = DataSource("org/definitely-not-cached", "abc", {"test": 1})
    with pytest.raises(DataLoadError, match="unknown split"):
        load_split(source, "train", tmp_path)
    with pytest.raises(DataLoadError, match=r"no test\.jsonl"):
        load_split(source, "test", tmp_path)
    (tmp_path / "test.jsonl").write_text("{broken\n")
    with pytest.raises(DataLoadError, match="not valid JSON"):
        load_split(source, "test", tmp_path)


def test_offline_hub_load_fails_fast_and_points_to_data_dir(tmp_path: Path) -> None:
    # huggingface_hub reads HF_HUB_OFFLINE at import time, so this needs a fresh interpreter.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    code = (
        "from vlmeval.data import DataLoadError, load_split\n"
        "from vlmeval.task import DataSource\n"
        "try:\n"
        "    load_split(DataSource('org/not-cached', 'abc', {'test': 1}), 'test', None)\n"
        "except DataLoadError as exc:\n"
        "    print(exc)\n"
    )
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            timeout=120)
    assert "--data-dir" in result.stdout, result.stderr
    assert time.monotonic() - started < 60


def slow_scorer(answer: str, target: str, fields: dict) -> ItemScore:
    if answer == "slow":
        time.sleep(30)
    if answer == "boom":
        raise ValueError("bad input")
    return exact_match(answer, target, fields)


def test_pool_bounds_each_item_and_keeps_the_rest() -> None:
    jobs = [ScoreJob(str(i), answer, "4", {}) for i, answer in enumerate(["4", "slow", "boom", "5", "4"])]
    started = time.monotonic()
    scores = score_all(slow_scorer, jobs, timeout_s=1.0, workers=2)
    assert time.monotonic() - started < 20
    assert [scores[str(i)].value for i in range(5)] == [1.0, 0.0, 0.0, 0.0, 1.0]
    assert "timed out" in scores["1"].detail["error"]
    assert "ValueError" in scores["2"].detail["error"]


def test_pool_scores_in_freshly_spawned_workers() -> None:
    assert os.environ.get("PYTEST_CURRENT_TEST")  # runs under pytest; the pool spawns fresh interpreters
    scores = score_all(exact_match, [ScoreJob("a", " Four ", "four", {})], timeout_s=5, workers=1)
    assert scores["a"].value == 1.0
