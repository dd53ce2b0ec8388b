"""Time to score the 16 published MATH-V outputs (16 x 3,040 items), ours against the official scorer.

    python bench/mathvision_scoring.py [--realdata ../shared/realdata/mathvision]
        [--official-python PY --official-repo DIR]

Ours runs as `vlmeval run --model replay:...` does: the whole scoring pool, worker processes included.
The official scorer (mathllm/MATH-V evaluation/evaluate.py, which needs latex2sympy2 1.9.1 and antlr4 4.7.2)
is timed only when an interpreter that has them and a checkout of that repo are given; it then runs in a
scratch folder on copies of the files. Otherwise the figure PROVENANCE.md gives (about 15 s per file on this
kind of machine) is printed as the reference.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from vlmeval.engines.replay import ReplayEngine
from vlmeval.evaluation import score_store
from vlmeval.runner import RunOptions, generate, prepare

DEFAULT_REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "mathvision"
PROVENANCE_SECONDS_PER_FILE = 15.0


def time_ours(root: Path, output: Path) -> dict[str, float]:
    seconds = {}
    for predictions in sorted((root / "outputs").glob("*.jsonl")):
        started = time.perf_counter()
        options = RunOptions(task="mathvision", model=f"replay:{predictions}", data_dir=root,
                             output_dir=output, show_progress=False)
        prepared = prepare(options)
        prepared.store.write_manifest(prepared.manifest)
        generate(prepared, ReplayEngine(predictions), False)
        score_store(prepared.store, prepared.task, prepared.samples, False, None, False)
        seconds[predictions.stem] = time.perf_counter() - started
    return seconds


def time_official(root: Path, python: str, repo: Path) -> dict[str, float]:
    seconds = {}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "data").mkdir()
        shutil.copy(root / "test.jsonl", work / "data" / "test.jsonl")
        for predictions in sorted((root / "outputs").glob("*.jsonl")):
            copy = work / predictions.name
            shutil.copy(predictions, copy)
            code = (f"import sys; sys.path.insert(0, {str(repo / 'evaluation')!r}); "
                    f"from evaluate import evaluate; evaluate({str(copy)!r}, True)")
            started = time.perf_counter()
            subprocess.run([python, "-c", code], cwd=work, check=True, capture_output=True)
            seconds[predictions.stem] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--realdata", type=Path, default=DEFAULT_REALDATA)
    parser.add_argument("--official-python")
    parser.add_argument("--official-repo", type=Path)
    args = parser.parse_args()
    if not (args.realdata / "outputs").is_dir():
        raise SystemExit(f"no MATH-V outputs under {args.realdata}")
    with tempfile.TemporaryDirectory() as output:
        ours = time_ours(args.realdata, Path(output))
    official = time_official(args.realdata, args.official_python, args.official_repo) \
        if args.official_python and args.official_repo else {}
    print(f"{'model':40s} {'vlmeval s':>10s} {'official s':>11s} {'speed-up':>9s}")
    for model, seconds in ours.items():
        reference = official.get(model, PROVENANCE_SECONDS_PER_FILE)
        print(f"{model:40s} {seconds:10.2f} {reference:11.2f} {reference / seconds:8.1f}x")
    total_ours = sum(ours.values())
    total_official = sum(official.values()) if official else PROVENANCE_SECONDS_PER_FILE * len(ours)
    source = "measured in this run" if official else "PROVENANCE.md's 15 s/file"
    speed_up = total_official / total_ours
    print(f"{'all 16 files':40s} {total_ours:10.2f} {total_official:11.2f} {speed_up:8.1f}x")
    print(f"(official: {source})")
    print(json.dumps({"ours_s": total_ours, "official_s": total_official, "official_source": source}))


if __name__ == "__main__":
    main()
