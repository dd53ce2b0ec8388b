"""Re-running a finished run: zero engine calls, and what its wall time is spent on.

    python bench/resume.py [--items 3040] [--workers 2]

A 3,040-item MathVision fixture run (the real task, template and scorer) is finished once with an instant
engine that counts its calls; then the same run again, in process, with a fresh counting engine; then the
re-run's phases alone (load, read the store, score). Last, the same through the command line as a user
runs it (`vlmeval run --model replay:FILE`, in a subprocess, twice): the second run's manifest must record
0 items requested.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixture import instant, write_fixture

from vlmeval.engines.scripted import ScriptedEngine
from vlmeval.evaluation import score_store
from vlmeval.runner import RunOptions, prepare, run

NEUTRAL_CWD = Path(__file__).resolve().parents[2]  # outside the checkout: the installed package, as users


def timed_run(options: RunOptions) -> tuple[float, int, dict[str, Any]]:
    engine = ScriptedEngine(instant)
    started = time.perf_counter()
    result = run(options, engine)
    return time.perf_counter() - started, len(engine.calls), result


def rerun_phases(options: RunOptions) -> dict[str, float]:
    phases: dict[str, float] = {}
    started = time.perf_counter()
    prepared = prepare(options)
    phases["load + fingerprint (prepare)"] = time.perf_counter() - started
    started = time.perf_counter()
    answered = prepared.store.answered()
    phases["read responses.jsonl"] = time.perf_counter() - started
    assert len(answered) == len(prepared.samples)
    started = time.perf_counter()
    score_store(prepared.store, prepared.task, prepared.samples, False, options.score_workers, False)
    phases["score + write scores/metrics"] = time.perf_counter() - started
    return phases


def cli_run(data_dir: Path, predictions: Path, out: Path, workers: int) -> tuple[float, dict[str, Any]]:
    command = [sys.executable, "-m", "vlmeval", "run", "--task", "mathvision", "--model",
               f"replay:{predictions}", "--data-dir", str(data_dir), "--output-dir", str(out),
               "--no-progress", "--score-workers", str(workers)]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=NEUTRAL_CWD, timeout=600)
    wall = time.perf_counter() - started
    (manifest,) = out.glob("*/manifest.json")
    return wall, json.loads(manifest.read_text())["generation"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3040)
    parser.add_argument("--workers", type=int, default=2, help="scoring processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        data_dir = scratch / "mathvision"
        write_fixture(data_dir, args.items)
        options = RunOptions(task="mathvision", model="qwen3-vl-2b-instruct", data_dir=data_dir,
                             output_dir=scratch / "results", show_progress=False, score_workers=args.workers)
        first_wall, first_calls, first = timed_run(options)
        again_wall, again_calls, again = timed_run(options)
        assert again["metrics"]["overall"] == first["metrics"]["overall"], "a re-run must not move the score"
        phases = rerun_phases(options)
        run_dir = Path(first["run_dir"])
        predictions = scratch / "predictions.jsonl"
        predictions.write_text("".join(json.dumps({"id": r["id"], "response": r["text"]}) + "\n"
                                       for r in map(json.loads, (run_dir / "responses.jsonl").open())))
        cli_first, _ = cli_run(data_dir, predictions, scratch / "cli", args.workers)
        cli_again, generation = cli_run(data_dir, predictions, scratch / "cli", args.workers)
    print(f"{args.items} MathVision fixture items, instant scripted engine, {args.workers} scoring workers")
    print(f"  first run (runner)                 {first_wall:7.3f} s   engine calls {first_calls}")
    print(f"  re-run of the finished run         {again_wall:7.3f} s   engine calls {again_calls}   "
          f"({again_wall / first_wall:.2f}x the first run)")
    for label, seconds in phases.items():
        print(f"    {label:32s} {seconds:7.3f} s")
    print(f"  CLI `vlmeval run --model replay:`  first {cli_first:7.3f} s, re-run {cli_again:7.3f} s   "
          f"re-run asked {generation['requested']}, already answered {generation['already_answered']}")
    if again_calls or generation["requested"]:
        raise SystemExit("FAIL: the re-run asked the engine again")


if __name__ == "__main__":
    main()
