"""The command line: runs, reports, exports, and one clear line for every kind of bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import test_runner  # noqa: F401  (registers the toy task)
from typer.testing import CliRunner

from vlmeval.cli import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def write_predictions(path: Path, answers: dict[str, str]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "prediction"])
        writer.writerows(answers.items())
    return path


@pytest.fixture
def replay_run(mathvision_dir: Path, tmp_path: Path) -> Path:
    answers = {str(i): str(2 * i) if i % 4 else "wrong" for i in range(1, 13)}
    predictions = write_predictions(tmp_path / "preds.csv", answers)
    code, output = invoke("run", "--task", "toy-mathvision", "--model", f"replay:{predictions}",
                          "--data-dir", mathvision_dir, "--output-dir", tmp_path / "results",
                          "--no-progress", "--score-workers", "1")
    assert code == 0, output
    (run_dir,) = (tmp_path / "results").iterdir()
    return run_dir


def test_replay_run_prints_the_leaderboard(replay_run: Path) -> None:
    metrics = json.loads((replay_run / "metrics.json").read_text())
    assert metrics["overall"]["n"] == 12 and metrics["overall"]["mean"] == pytest.approx(9 / 12)
    code, output = invoke("report", replay_run)
    assert code == 0 and "75.00" in output and "by level" in output


def test_export_writes_leaderboard_and_samples(replay_run: Path, tmp_path: Path) -> None:
    board, items = tmp_path / "board.csv", tmp_path / "items.csv"
    code, output = invoke("export", replay_run, "--csv", board, "--samples", items)
    assert code == 0, output
    rows = list(csv.DictReader(items.open()))
    assert len(rows) == 12
    assert {"task", "id", "score", "prediction", "target"} <= set(rows[0])
    assert next(r for r in rows if r["id"] == "4")["score"] == "0.0"
    (leader,) = list(csv.DictReader(board.open()))
    assert float(leader["score"]) == pytest.approx(75.0)


def test_score_recomputes_from_stored_answers(replay_run: Path) -> None:
    (replay_run / "metrics.json").unlink()
    code, output = invoke("score", replay_run, "--no-progress", "--score-workers", "1")
    assert code == 0, output
    assert json.loads((replay_run / "metrics.json").read_text())["overall"]["n"] == 12


def test_list_shows_tasks_and_presets() -> None:
    assert "toy-mathvision" in invoke("list", "tasks")[1]
    assert "qwen3-vl-235b-a22b-thinking" in invoke("list", "models")[1]
    suites = invoke("list", "suites")[1]
    assert "qwen3-vl-report" in suites and "qwen2-vl-report" in suites


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--task", "nope", "--model", "qwen3-vl-2b-instruct"], "unknown task"),
        (["run", "--task", "toy-mathvision", "--model", "gpt-17"], "unknown model"),
        (["run", "--task", "toy-mathvision", "--model", "qwen3-vl-2b-instruct", "--data-dir", "/no/such"],
         "does not exist"),
        (["run", "--task", "toy-mathvision", "--model", "replay:/no/such.jsonl"], "does not exist"),
        (["report", "/no/such/run"], "not a vlmeval run"),
        (["list", "things"], "cannot list"),
        (["run", "--suite", "no-such-suite", "--model", "qwen3-vl-2b-instruct"], "unknown suite"),
        (["run", "--model", "qwen3-vl-2b-instruct"], "give either --task"),
        (["run", "--task", "toy-mathvision", "--suite", "qwen3-vl-report", "--model", "x/y"], "give either"),
        (["run", "--task", "toy-mathvision", "--model", "openai:localhost:1,localhost:2#m"],
         "not an http(s) URL"),
        (["run", "--task", "toy-mathvision", "--model", "openai:http://a/v1#"], "expected openai:URL1"),
    ],
)
def test_bad_input_gets_one_error_line_and_no_traceback(args: list[str], message: str) -> None:
    code, output = invoke(*args)
    assert code == 2
    assert message in output and "Traceback" not in output


def test_malformed_predictions_file_is_reported(mathvision_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "response": "2"}\n{oops\n')
    code, output = invoke("run", "--task", "toy-mathvision", "--model", f"replay:{bad}",
                          "--data-dir", mathvision_dir, "--output-dir", tmp_path)
    assert code == 2 and "bad.jsonl:2: not valid JSON" in output and "Traceback" not in output
    no_columns = tmp_path / "cols.csv"
    no_columns.write_text("question,answer\nq,a\n")
    code, output = invoke("run", "--task", "toy-mathvision", "--model", f"replay:{no_columns}",
                          "--data-dir", mathvision_dir, "--output-dir", tmp_path)
    assert code == 2 and "no id column" in output


def test_a_preset_without_vllm_installed_says_how_to_get_it(mathvision_dir: Path, tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    code, output = invoke("run", "--task", "toy-mathvision", "--model", "qwen3-vl-2b-instruct",
                          "--engine", "vllm", "--data-dir", mathvision_dir, "--output-dir", tmp_path)
    assert code == 2 and "vLLM, which is not installed" in output and "Traceback" not in output
    assert "engine: vllm (chosen with --engine)" in output


def test_auto_engine_choice_is_said_in_one_line(mathvision_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from vlmeval.engines import factory

    monkeypatch.setattr(factory.importlib.util, "find_spec", lambda name: None)
    code, output = invoke("run", "--task", "toy-mathvision", "--model", "qwen3-vl-2b-instruct",
                          "--data-dir", mathvision_dir, "--output-dir", tmp_path)
    assert "engine: transformers (auto: vLLM is not installed)" in output
    assert code == 2 and "runs on transformers, which is not installed here" in output


def test_parallelism_flags_are_refused_where_they_cannot_apply(mathvision_dir: Path, tmp_path: Path) -> None:
    answers = write_predictions(tmp_path / "p.csv", {"1": "2"})
    code, output = invoke("run", "--task", "toy-mathvision", "--model", f"replay:{answers}",
                          "--data-parallel", "2", "--data-dir", mathvision_dir, "--output-dir", tmp_path)
    assert code == 2 and "parallelism options apply to the local vLLM engine" in output
    code, output = invoke("run", "--task", "toy-mathvision", "--model", "openai:qwen3-vl-8b-instruct",
                          "--tensor-parallel-size", "2", "--data-dir", mathvision_dir,
                          "--output-dir", tmp_path)
    assert code == 2 and "vllm serve --tensor-parallel-size" in output
