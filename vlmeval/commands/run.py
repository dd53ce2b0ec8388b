"""`vlmeval run`: one task, several (`--task a,b,c`) or a named suite, through one engine."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from vlmeval.commands import fail
from vlmeval.commands.tables import console, print_judge, print_runs
from vlmeval.engines.factory import ParallelOptions, ServerOptions, choose_local_engine
from vlmeval.judging.spec import JudgeSettings
from vlmeval.runner import RunOptions
from vlmeval.suites import SuiteError, load_suite

Opt = typer.Option
IntOpt = Annotated[int | None, Opt()]
FloatOpt = Annotated[float | None, Opt()]
JudgeBaseUrl = Annotated[str | None, Opt(
    help="OpenAI-compatible endpoint of the task's model judge (default: none; the judge's items score 0).")]
JudgeApiKeyEnv = Annotated[str, Opt(help="Variable holding the judge endpoint's key.")]
JudgeModel = Annotated[str | None, Opt(help="Judge with this model instead of the task's.")]
JudgeConcurrency = Annotated[int, Opt(min=1, help="Judge calls in flight.")]
MODEL_HELP = "Preset, hub id, `openai:<name>`, `openai:URL1,URL2#<name>` or `replay:<file>`."
EngineName = Literal["auto", "vllm", "transformers"]


def run(
    model: Annotated[str, Opt(help=MODEL_HELP)],
    task: Annotated[str | None, Opt(help="Task name, or several: a,b,c (see `vlmeval list tasks`).")] = None,
    suite: Annotated[str | None, Opt(help="A named suite (`vlmeval list suites`) or a suite .toml.")] = None,
    split: Annotated[str | None, Opt(help="Dataset split (default: the task's, or the suite's).")] = None,
    limit: Annotated[int | None, Opt(min=1, help="Only the first N items of each task.")] = None,
    output_dir: Annotated[Path, Opt(help="Where run folders go.")] = Path("results"),
    data_dir: Annotated[Path | None, Opt(
        help="Local copy of the dataset (hub schema); with several tasks, a folder of them.")] = None,
    resume: Annotated[bool, Opt(help="Require an earlier run with these settings.")] = False,
    fresh: Annotated[bool, Opt(help="Discard an earlier run with these settings.")] = False,
    max_tokens: Annotated[int | None, Opt(help="Override / set max output tokens.")] = None,
    temperature: FloatOpt = None, top_p: FloatOpt = None, top_k: IntOpt = None,
    presence_penalty: FloatOpt = None, repetition_penalty: FloatOpt = None, seed: IntOpt = None,
    strip_thinking: Annotated[bool | None, Opt(help="Cut answers at </think> before scoring.")] = None,
    engine: Annotated[EngineName, Opt(
        help="Local weights on vllm or transformers; auto: vLLM with a GPU, else transformers.")] = "auto",
    tensor_parallel_size: Annotated[int | None, Opt(min=1, help="Override the preset's (vLLM).")] = None,
    pipeline_parallel_size: Annotated[int | None, Opt(min=1, help="Override the preset's (vLLM).")] = None,
    distributed_executor_backend: Annotated[str | None, Opt(help="ray: spread one model over nodes.")] = None,
    max_model_len: Annotated[int | None, Opt(min=1, help="Override the preset's context (vLLM).")] = None,
    data_parallel: Annotated[int, Opt(min=1, help="vLLM engines in separate processes, sharing items.")] = 1,
    base_url: Annotated[str, Opt(help="OpenAI-compatible endpoint.")] = "http://localhost:8000/v1",
    api_key_env: Annotated[str, Opt(help="Variable holding the endpoint's key.")] = "OPENAI_API_KEY",
    concurrency: Annotated[int, Opt(min=1, help="Requests in flight per endpoint (server).")] = 32,
    served_model: Annotated[str | None, Opt(help="Model name the server knows.")] = None,
    score_workers: Annotated[int | None, Opt(min=1, help="Scoring processes.")] = None,
    progress: Annotated[bool, Opt(help="Show progress bars.")] = True,
    task_option: Annotated[list[str] | None, Opt(
        help="KEY=VALUE: change one of the task's named options (repeatable).")] = None,
    cache_dir: Annotated[Path | None, Opt(
        help="Where sampled video frames are cached (default: OUTPUT_DIR/.frame-cache).")] = None,
    judge_base_url: JudgeBaseUrl = None, judge_api_key_env: JudgeApiKeyEnv = "OPENAI_API_KEY",
    judge_model: JudgeModel = None, judge_concurrency: JudgeConcurrency = 8,
) -> None:
    """Generate answers for every item not yet answered, store them, score them."""
    from vlmeval.cli import USER_ERRORS
    from vlmeval.runner import run_many

    base = RunOptions(
        task="", model=model, split=split, limit=limit, output_dir=output_dir, data_dir=data_dir,
        resume=resume, fresh=fresh, strip_thinking=strip_thinking, engine=engine,
        sampling_overrides={"max_tokens": max_tokens, "temperature": temperature, "top_p": top_p,
                            "top_k": top_k, "presence_penalty": presence_penalty,
                            "repetition_penalty": repetition_penalty, "seed": seed},
        server=ServerOptions(base_url, api_key_env, concurrency, served_model),
        parallel=ParallelOptions(tensor_parallel_size, pipeline_parallel_size, distributed_executor_backend,
                                 max_model_len, data_parallel),
        score_workers=score_workers, show_progress=progress, task_options=key_values(task_option or []),
        cache_dir=cache_dir,
        judge=JudgeSettings.from_flags(judge_base_url, judge_api_key_env, judge_model, judge_concurrency),
    )
    runs = task_runs(base, task, suite)
    _say_engine(model, engine)
    try:
        results = run_many(runs)
    except USER_ERRORS as exc:
        fail(str(exc))
    print_results(results)


def print_results(results: list[dict[str, Any]]) -> None:
    for result in results:
        generation = result["generation"]
        console.print(f"run: {result['run_dir']}  (asked {generation['requested']}, "
                      f"already answered {generation['already_answered']}, errors {generation['errors']})")
        print_judge(result["metrics"])
    print_runs([Path(result["run_dir"]) for result in results])


def task_runs(base: RunOptions, task: str | None, suite: str | None) -> list[RunOptions]:
    """One RunOptions per task: from --task a,b,c (all on --split) or from the suite's entries."""
    if (task is None) == (suite is None):
        fail("give either --task (one or a,b,c) or --suite")
    if task is not None:
        names = [name.strip() for name in task.split(",") if name.strip()]
        runs = [dataclasses.replace(base, task=name) for name in names]
    else:
        assert suite is not None
        try:
            loaded = load_suite(suite)
        except SuiteError as exc:
            fail(str(exc))
        runs = [dataclasses.replace(base, task=entry.task, split=base.split or entry.split,
                                    task_options={**entry.options, **base.task_options})
                for entry in loaded.entries]
    if len(runs) > 1 and base.data_dir is not None:
        runs = [dataclasses.replace(run, data_dir=task_data_dir(base.data_dir, run.task)) for run in runs]
    return runs


def task_data_dir(root: Path, task: str) -> Path:
    """With several tasks, --data-dir is a folder of local copies: ROOT/<task name>, or else ROOT/<hub id>
    (Org/Name), which tasks of one dataset share."""
    from vlmeval.registry import UnknownTaskError, get_task

    if (root / task).is_dir():
        return root / task
    try:
        return root / get_task(task).source.hub_id
    except UnknownTaskError:
        return root / task  # the run then says the task is unknown


def _say_engine(model: str, requested: EngineName) -> None:
    """The one line that says which engine runs local weights, and why."""
    if model.startswith(("openai:", "replay:")):
        return
    chosen, reason = choose_local_engine(requested)
    console.print(f"engine: {chosen} ({reason})")


def key_values(pairs: list[str]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--task-option takes KEY=VALUE, got {pair!r}")
        parsed[key.strip()] = value
    return parsed


def register(app: typer.Typer) -> None:
    app.command("run")(run)
