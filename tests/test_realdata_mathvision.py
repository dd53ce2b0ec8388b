"""The proof: each of the 16 published MATH-V outputs, replayed through `vlmeval run`, is decided item by
item as the official scorer decided it (`correct` in verdicts/official_verdicts_*.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlmeval.cli import app

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

MODELS = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "shared" / "realdata" / "mathvision"
                                 / "outputs").glob("*.jsonl")) or ["(realdata absent)"]


def read_jsonl(path: Path) -> dict[str, dict]:
    return {row["id"]: row for row in map(json.loads, path.open(encoding="utf-8"))}


@pytest.mark.parametrize("model", MODELS)
def test_replay_agrees_with_the_official_scorer(model: str, realdata: Path, tmp_path: Path) -> None:
    root = realdata / "mathvision"
    result = CliRunner().invoke(app, [
        "run", "--task", "mathvision", "--model", f"replay:{root / 'outputs' / f'{model}.jsonl'}",
        "--data-dir", str(root), "--output-dir", str(tmp_path), "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    (run_dir,) = tmp_path.iterdir()
    ours = read_jsonl(run_dir / "scores.jsonl")
    official = read_jsonl(root / "verdicts" / f"official_verdicts_{model}.jsonl")
    assert len(ours) == len(official) == 3040
    disagreements = [i for i in official if bool(ours[i]["score"]) != official[i]["correct"]]
    assert disagreements == [], f"{len(disagreements)} items decided differently: {disagreements[:10]}"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    official_correct = sum(v["correct"] for v in official.values())
    assert round(metrics["overall"]["mean"] * 3040) == official_correct
    assert metrics["overall"]["errors"] == 0
    assert_breakdowns_match_published(metrics, root, model, official)


def published_counts(root: Path, model: str) -> dict[str, int]:
    """The official `_result.json` ("-all": "259/3040=8.52%", "-level1": ..., "<subject>": ...) as counts."""
    raw = json.loads((root / "published_results" / f"{model}_result.json").read_text())
    return {key: int(value.split("/")[0]) for key, value in raw.items()}


def assert_breakdowns_match_published(
    metrics: dict, root: Path, model: str, official: dict[str, dict]
) -> None:
    """Per subject and per level, our counts equal the published ones, moved only by the items where the
    official rerun decided differently from the published file (PROVENANCE.md: Gemini-Pro id 3013)."""
    items = read_jsonl(root / "test.jsonl")
    expected = published_counts(root, model)
    for item_id, verdict in official.items():
        delta = int(verdict["correct"]) - int(verdict["published_correct"])
        if delta:
            item = items[item_id]
            for key in ("-all", item["subject"], f"-level{item['level']}"):
                expected[key] += delta
    ours = {"-all": round(metrics["overall"]["mean"] * metrics["overall"]["n"])}
    for subject, stats in metrics["groups"]["subject"].items():
        ours[subject] = round(stats["mean"] * stats["n"])
    for level, stats in metrics["groups"]["level"].items():
        ours[f"-level{level}"] = round(stats["mean"] * stats["n"])
    assert ours == {key: expected[key] for key in ours}
    assert len(ours) == 1 + 16 + 5
