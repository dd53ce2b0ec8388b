"""Harness overhead per item with an instant engine, phase by phase, in one run.

    python bench/overhead.py [--items 2000]

It builds a MathVision-schema parquet with N real PNG images, then times the phases of a run against
the bare engine loop (an engine that answers instantly): loading and converting rows, rendering and
storing each answer (flushed per line), and scoring in worker processes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import mathvision_rows, right_answer, write_hub_parquet

from vlmeval.engines.scripted import ScriptedEngine
from vlmeval.evaluation import score_store
from vlmeval.registry import register_task
from vlmeval.runner import RunOptions, build_requests, generate, prepare
from vlmeval.scoring.exact import exact_match
from vlmeval.task import DataSource, Task
from vlmeval.types import ImageRef, Request, Sample, TextPart


def to_sample(row: dict) -> Sample:
    image = row["decoded_image"]
    return Sample(str(row["id"]), str(2 * int(row["id"])), {"question": row["question"], "options": []},
                  (image,) if isinstance(image, ImageRef) else (), {"level": row["level"]})


def instant(request: Request) -> str:
    text = next(p.text for p in request.messages[0].content if isinstance(p, TextPart))
    return right_answer(text)


def timed(label: str, timings: dict[str, float], function, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = function(*args)
    timings[label] = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=2000)
    items = parser.parse_args().items
    register_task(Task("bench-toy", "bench", DataSource("org/bench", "0" * 40, {"test": items},
                                                        image_fields=("decoded_image",)),
                       "test", "mathvision", to_sample, exact_match, group_by=("level",)))
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        write_hub_parquet(data_dir, "test", mathvision_rows(items))
        options = RunOptions(task="bench-toy", model="qwen3-vl-2b-instruct", data_dir=data_dir,
                             output_dir=Path(scratch) / "results", show_progress=False)
        timings: dict[str, float] = {}
        prepared = timed("load + convert rows", timings, prepare, options)
        prepared.store.write_manifest(prepared.manifest)
        requests = build_requests(prepared, prepared.samples)
        engine = ScriptedEngine(instant)
        timed("bare engine loop", timings, lambda: list(engine.generate(requests)))
        timed("render + generate + store", timings, generate, prepared, ScriptedEngine(instant), False)
        timed("score (worker processes)", timings, score_store, prepared.store, prepared.task,
              prepared.samples, False, None, False)
    bare = timings["bare engine loop"]
    print(f"{items} items, instant engine")
    for label, seconds in timings.items():
        print(f"  {label:28s} {seconds:8.3f} s  {1e3 * seconds / items:7.3f} ms/item  "
              f"{seconds / bare:8.1f}x the bare engine loop")
    harness = sum(v for k, v in timings.items() if k != "bare engine loop")
    print(f"  harness total per item: {1e3 * harness / items:.3f} ms "
          f"({harness / bare:.1f}x the bare engine loop; a real model takes 10^2-10^4 ms per item)")


if __name__ == "__main__":
    main()
