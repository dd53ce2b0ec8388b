"""Per-item harness time with an instant engine, split into load, render, encode, score and store, each
stage timed on its own over the MathVision fixture (3,040 generated items with real PNGs, the real
`mathvision` task: its template and its official rule-based scorer).

    python bench/overhead_split.py [--items 3040] [--workers 2]

Stages: load (parquet -> rows -> Samples), render (template -> Requests), encode (each image checked and
turned into a data URL: what the server engine does before sending), engine (an instant scripted engine:
the floor), store (append + flush one line per answer, then read the store back), score (the official
scorer in this process, item by item, and the pooled `score_store` that a run uses: worker processes plus
writing scores.jsonl and metrics.json). The last line runs the whole `run()` for the same items.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixture import instant, write_fixture

from vlmeval.data import load_samples
from vlmeval.engines.openai_server import chat_messages
from vlmeval.engines.scripted import ScriptedEngine
from vlmeval.evaluation import score_store
from vlmeval.registry import get_task
from vlmeval.runner import RunOptions, build_requests, prepare, run
from vlmeval.types import Response

Result = TypeVar("Result")


def timed(label: str, timings: dict[str, float], function: Callable[[], Result]) -> Result:
    started = time.perf_counter()
    result = function()
    timings[label] = time.perf_counter() - started
    return result


def store_answers(prepared: Any, responses: list[Response]) -> None:
    with prepared.store.appender() as appender:
        for response in responses:
            appender.append(response)
    prepared.store.responses()


def score_in_process(task: Any, samples: list[Any], responses: list[Response]) -> None:
    for sample, response in zip(samples, responses, strict=True):
        task.score(response.text, sample.target, sample.fields)


def stage_timings(data_dir: Path, out: Path, workers: int) -> dict[str, float]:
    task = get_task("mathvision")
    options = RunOptions(task="mathvision", model="qwen3-vl-2b-instruct", data_dir=data_dir,
                         output_dir=out, show_progress=False, score_workers=workers)
    timings: dict[str, float] = {}
    samples, _ = timed("load: parquet -> Samples", timings,
                       lambda: load_samples(task, "test", data_dir, None))
    prepared = prepare(options)
    prepared.store.write_manifest(prepared.manifest)
    requests = timed("render: template -> Requests", timings, lambda: build_requests(prepared, samples))
    timed("encode: image check + data URL", timings, lambda: [chat_messages(r.messages) for r in requests])
    engine = ScriptedEngine(instant)
    responses = timed("engine: instant (the floor)", timings, lambda: list(engine.generate(requests)))
    timed("store: append+flush, read back", timings, lambda: store_answers(prepared, responses))
    timed("score: official scorer, 1 process", timings, lambda: score_in_process(task, samples, responses))
    timed(f"score: score_store, {workers} workers", timings, lambda: score_store(
        prepared.store, prepared.task, prepared.samples, False, workers, False))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=3040)
    parser.add_argument("--workers", type=int, default=2, help="scoring processes of score_store and run()")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "mathvision"
        write_fixture(data_dir, args.items)
        timings = stage_timings(data_dir, Path(scratch) / "stages", args.workers)
        whole: dict[str, float] = {}
        timed("whole run(): all of the above", whole, lambda: run(RunOptions(
            task="mathvision", model="qwen3-vl-2b-instruct", data_dir=data_dir,
            output_dir=Path(scratch) / "whole", show_progress=False, score_workers=args.workers),
            ScriptedEngine(instant)))
    print(f"{args.items} MathVision fixture items (96x64 PNG each), instant engine, each stage timed alone")
    print(f"  {'stage':38s} {'total s':>8} {'ms/item':>8} {'share':>6}")
    # The harness's own work: every stage but the engine, with scoring as a run does it (pooled).
    harness = sum(seconds for label, seconds in timings.items()
                  if not label.startswith(("engine:", "score: official")))
    for label, seconds in {**timings, **whole}.items():
        share = f"{100 * seconds / harness:5.1f}%" if label in timings else ""
        print(f"  {label:38s} {seconds:8.3f} {1e3 * seconds / args.items:8.3f} {share:>6}")
    print(f"  harness per item (stages, pooled score): {1e3 * harness / args.items:.3f} ms; "
          f"whole run(): {1e3 * whole['whole run(): all of the above'] / args.items:.3f} ms "
          "(a real model takes 10^2-10^4 ms per item)")


if __name__ == "__main__":
    main()
