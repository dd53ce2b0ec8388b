"""`vlmeval run`: load the task, ask the engine for every item not yet answered, store, then score.

The run directory's name is a fingerprint of everything that can move a score (task settings, template,
data origin, model settings), so running the same command again finds the same directory and asks the
engine only for the items it has no answer for.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlmeval.data import DataLoadError, load_samples
from vlmeval.engines.base import Engine
from vlmeval.engines.factory import (
    EngineChoice,
    ParallelOptions,
    ServerOptions,
    build_engine,
    choose_local_engine,
    with_parallelism,
)
from vlmeval.evaluation import score_store
from vlmeval.judging.spec import JudgeSettings, missing_key_problem
from vlmeval.manifest import environment, fingerprint
from vlmeval.models.spec import NO_GENERATION, ModelSpec, resolve_model
from vlmeval.progress import step
from vlmeval.registry import UnknownTaskError, get_task
from vlmeval.store import ResponseAppender, RunStore
from vlmeval.task import Task, TaskOptionError
from vlmeval.templates import template_hash
from vlmeval.types import MediaLimits, Request, Response, Sample, VideoRef
from vlmeval.video.types import FramePolicy


class RunError(RuntimeError):
    pass


@dataclass(frozen=True)
class RunOptions:
    task: str
    model: str
    split: str | None = None
    limit: int | None = None
    output_dir: Path = Path("results")
    data_dir: Path | None = None
    resume: bool = False
    fresh: bool = False
    sampling_overrides: dict[str, Any] = field(default_factory=dict)
    strip_thinking: bool | None = None
    server: ServerOptions = field(default_factory=ServerOptions)
    score_workers: int | None = None
    show_progress: bool = True
    task_options: dict[str, Any] = field(default_factory=dict)
    # Where sampled video frames are cached (default: <output_dir>/.frame-cache).
    cache_dir: Path | None = None
    # Where the task's model judge runs; None: no judge, items that need one score 0.
    judge: JudgeSettings | None = None
    # What runs local weights ("auto": vLLM with a GPU, else transformers) and how they spread over devices.
    engine: EngineChoice = "auto"
    parallel: ParallelOptions = field(default_factory=ParallelOptions)


@dataclass(frozen=True)
class PreparedRun:
    task: Task
    model: ModelSpec
    split: str
    samples: list[Sample]
    store: RunStore
    manifest: dict[str, Any]
    frame_cache_dir: Path | None = None


def effective_media_limits(task: Task, model: ModelSpec) -> MediaLimits:
    """A task's own pixel bounds (from the benchmark's evaluation script) win over the model's defaults."""
    return task.media_limits or model.media_limits


def _task_options(task: Task, model: ModelSpec, options: RunOptions) -> dict[str, Any]:
    """The user's task options; a task with instruct and thinking prompts (`prompt_variant`) gets the
    one matching the model unless the user chose."""
    chosen: dict[str, Any] = dict(options.task_options)
    if "prompt_variant" in task.options and "prompt_variant" not in chosen:
        chosen["prompt_variant"] = "thinking" if model.thinking else "instruct"
    return chosen


def prepare(options: RunOptions) -> PreparedRun:
    local_engine, _ = choose_local_engine(options.engine)
    model = resolve_model(options.model, options.sampling_overrides, options.strip_thinking, local_engine)
    model = with_parallelism(model, options.parallel)
    task = get_task(options.task).with_options(_task_options(get_task(options.task), model, options))
    # A judge that cannot be called must stop the run now, not after hours of inference.
    problem = missing_key_problem(task.name, task.judge, options.judge, os.environ)
    if problem is not None:
        raise RunError(problem)
    split = options.split or task.default_split
    samples, origin = load_samples(task, split, options.data_dir, options.limit)
    identity = {
        "task": task.settings(), "template_sha256": template_hash(task.template), "split": split,
        "data": {k: v for k, v in origin.items() if k != "fingerprint"}, "model": model.settings(),
        "media_limits": effective_media_limits(task, model).as_dict(),
    }
    run_id = f"{task.name}-{split}-{model.name}-{fingerprint(identity)[:10]}"
    store = RunStore(options.output_dir / run_id)
    if options.fresh and store.directory.exists():
        shutil.rmtree(store.directory)
    if options.resume and not store.exists():
        raise RunError(f"--resume: no earlier run at {store.directory} for these settings")
    manifest = {
        "run_id": run_id, **identity, "data": origin, "limit": options.limit,
        "data_dir": str(options.data_dir.resolve()) if options.data_dir else None,
        "items": len(samples), "created_at": time.time(), "environment": environment(),
        "parallelism": {**model.parallelism(), "data_parallel": options.parallel.data_parallel},
    }
    if store.exists():
        manifest["created_at"] = store.read_manifest().get("created_at", manifest["created_at"])
    cache_dir = None
    if any(isinstance(item, VideoRef) for sample in samples for item in sample.media):
        from vlmeval.video.decode import decoder_description

        cache_dir = options.cache_dir or options.output_dir / ".frame-cache"
        manifest["video"] = {"policy": video_policy(task, model).as_dict(), "decoder": decoder_description()}
    return PreparedRun(task, model, split, samples, store, manifest, cache_dir)


def video_policy(task: Task, model: ModelSpec) -> FramePolicy:
    """The task's frame policy (the report's settings) with the model's index maths, factor and cap."""
    from vlmeval.video.frames import model_policy

    return model_policy(task.frame_policy or FramePolicy(), model.video_sampling, model.image_factor,
                        model.max_video_frames)


def build_requests(prepared: PreparedRun, pending: Sequence[Sample]) -> list[Request]:
    sampling = prepared.model.sampling or NO_GENERATION
    limits = effective_media_limits(prepared.task, prepared.model)
    requests = []
    for sample in pending:
        messages = prepared.task.render(sample)
        requests.append(Request(sample.id, messages, sampling, limits))
    return requests


def generate(prepared: PreparedRun, engine: Engine, show_progress: bool) -> dict[str, int]:
    return generate_many([prepared], engine, show_progress)[0]


def generate_many(runs: Sequence[PreparedRun], engine: Engine, show_progress: bool) -> list[dict[str, int]]:
    """Ask one engine for the pending items of several runs in a single `generate` call (the model loads
    once and the accelerator stays full between tasks); each answer goes to its own run's store."""
    all_counts = []
    with ExitStack() as stack:
        appenders: list[ResponseAppender] = []
        requests: list[Request] = []
        for index, prepared in enumerate(runs):
            appender = stack.enter_context(prepared.store.appender(engine_label(engine)))
            pending_requests, counts = _pending_requests(prepared, appender, show_progress)
            appenders.append(appender)
            all_counts.append(counts)
            if len(runs) > 1:  # item ids are unique within a task only
                pending_requests = [_tagged(request, index) for request in pending_requests]
            requests.extend(pending_requests)
        if not requests:
            return all_counts
        with step("generate", len(requests), show_progress) as bar:
            for response in engine.generate(requests):
                index, response = _untagged(response) if len(runs) > 1 else (0, response)
                appenders[index].append(response)
                all_counts[index]["received"] += 1
                all_counts[index]["errors"] += response.error is not None
                bar.advance()
    return all_counts


def _pending_requests(prepared: PreparedRun, appender: ResponseAppender,
                      show_progress: bool) -> tuple[list[Request], dict[str, int]]:
    answered = prepared.store.answered()
    pending = [s for s in prepared.samples if s.id not in answered]
    counts = {"already_answered": len(prepared.samples) - len(pending), "requested": len(pending),
              "received": 0, "errors": 0}
    requests = build_requests(prepared, pending)
    if requests and prepared.frame_cache_dir is not None:
        requests = _sample_videos(prepared, requests, appender, counts, show_progress)
    return requests, counts


_TAG = "\x1f"  # a control character: never part of a dataset's item id


def _tagged(request: Request, index: int) -> Request:
    return dataclasses.replace(request, sample_id=f"{index}{_TAG}{request.sample_id}")


def _untagged(response: Response) -> tuple[int, Response]:
    index, _, sample_id = response.sample_id.partition(_TAG)
    return int(index), dataclasses.replace(response, sample_id=sample_id)


def engine_label(engine: Engine) -> str:
    """The producer the store records on each answer: `vllm-offline`, `data-parallel(vllm-offline)`."""
    name = str(getattr(engine, "name", type(engine).__name__))
    worker = engine.describe().get("worker")
    if isinstance(worker, dict) and worker.get("engine"):
        return f"{name}({worker['engine']})"
    return name


def _sample_videos(prepared: PreparedRun, requests: list[Request], appender: Any, counts: dict[str, int],
                   show_progress: bool) -> list[Request]:
    """Sample and cache every pending video before the engine starts; items whose video fails are
    stored as errors now and never sent."""
    from vlmeval.video.cache import FrameCache
    from vlmeval.video.frames import sample_videos

    assert prepared.frame_cache_dir is not None
    cache = FrameCache(prepared.frame_cache_dir)
    with step("sample video frames", len(requests), show_progress) as bar:
        policy = video_policy(prepared.task, prepared.model)
        ready, failed = sample_videos(requests, policy, cache, bar.advance)
    for response in failed:
        appender.append(response)
        counts["received"] += 1
        counts["errors"] += 1
    counts["video_decodes"] = cache.stats.decodes
    counts["video_cache_hits"] = cache.stats.hits
    return ready


def run(options: RunOptions, engine: Engine | None = None) -> dict[str, Any]:
    """Run inference and scoring; an `engine` passed in (tests, notebooks) replaces the model's own."""
    return run_many([options], engine)[0]


_TASK_PROBLEMS = (DataLoadError, UnknownTaskError, TaskOptionError, RunError)


def prepare_all(options: Sequence[RunOptions]) -> list[PreparedRun]:
    """Every task's run, or one error that names every task that cannot start (not just the first), so a
    suite is fixed in one go before any model loads."""
    if len(options) == 1:
        return [prepare(options[0])]
    prepared, problems = [], []
    for option in options:
        try:
            prepared.append(prepare(option))
        except _TASK_PROBLEMS as exc:
            problems.append(f"{option.task}: {str(exc).strip(chr(34) + chr(39))}")
    if problems:
        raise RunError(f"{len(problems)} of {len(options)} tasks cannot start: " + "; ".join(problems))
    return prepared


def run_many(options: Sequence[RunOptions], engine: Engine | None = None) -> list[dict[str, Any]]:
    """Several tasks of one model through one engine (built once), one run folder per task."""
    if not options:
        return []
    models = {(o.model, o.engine, o.parallel) for o in options}
    if len(models) > 1:
        raise RunError("a multi-task run evaluates one model: every task must name the same --model")
    if len(options) > 1 and options[0].model.startswith("replay:"):
        raise RunError("a predictions file (replay:) answers one task: run each task on its own file")
    prepared_runs = prepare_all(options)
    engine = engine or build_engine(prepared_runs[0].model, options[0].server, options[0].parallel)
    description = engine.describe()
    for prepared in prepared_runs:
        prepared.manifest["engine"] = description
        prepared.store.write_manifest(prepared.manifest)
    all_counts = generate_many(prepared_runs, engine, options[0].show_progress)
    results = []
    for option, prepared, counts in zip(options, prepared_runs, all_counts, strict=True):
        prepared.manifest["generation"] = {**counts, "finished_at": time.time()}
        prepared.manifest["engine"] = engine.describe()  # now with what the run measured (per endpoint)
        prepared.manifest["engines_used"] = prepared.store.engines_used()
        prepared.store.write_manifest(prepared.manifest)
        metrics = score_store(prepared.store, prepared.task, prepared.samples, prepared.model.thinking,
                              option.score_workers, option.show_progress, option.judge)
        results.append({"run_dir": str(prepared.store.directory), "generation": counts, "metrics": metrics})
    return results
