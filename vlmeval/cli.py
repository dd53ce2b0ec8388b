"""The `vlmeval` command: run, score, report, export, list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from vlmeval.commands import compare, dashboard
from vlmeval.commands import run as run_command
from vlmeval.commands.run import JudgeApiKeyEnv, JudgeBaseUrl, JudgeConcurrency, JudgeModel
from vlmeval.commands.tables import console, print_judge, print_runs
from vlmeval.data import DataLoadError
from vlmeval.engines.factory import EngineUnavailableError
from vlmeval.engines.replay import ReplayFileError
from vlmeval.judging.spec import JudgeConfigError, JudgeSettings
from vlmeval.models.presets import PRESETS
from vlmeval.models.spec import ModelSpecError
from vlmeval.registry import UnknownTaskError, all_tasks
from vlmeval.runner import RunError
from vlmeval.store import ExportError, RunNotFoundError
from vlmeval.suites import SuiteError, suite_files
from vlmeval.task import TaskOptionError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="Reproduce the benchmark numbers of vision-language model reports.")
run_command.register(app)
compare.register(app)
dashboard.register(app)
USER_ERRORS = (EngineUnavailableError, UnknownTaskError, ModelSpecError, DataLoadError, ReplayFileError,
               RunError, RunNotFoundError, ExportError,
               TaskOptionError, JudgeConfigError, SuiteError)


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)  # one plain line: no wrapping, no markup
    raise typer.Exit(2)


@app.command()
def score(
    runs: Annotated[list[Path], typer.Argument(help="Run folders to re-score from their stored answers.")],
    score_workers: Annotated[int | None, typer.Option(min=1)] = None,
    progress: Annotated[bool, typer.Option()] = True,
    judge_base_url: JudgeBaseUrl = None,
    judge_api_key_env: JudgeApiKeyEnv = "OPENAI_API_KEY",
    judge_model: JudgeModel = None,
    judge_concurrency: JudgeConcurrency = 8,
) -> None:
    """Re-score stored answers without inference (judge verdicts already cached cost nothing)."""
    from vlmeval.evaluation import rescore

    judge = JudgeSettings.from_flags(judge_base_url, judge_api_key_env, judge_model, judge_concurrency)
    try:
        for run_dir in runs:
            print_judge(rescore(run_dir, score_workers, progress, judge))
    except USER_ERRORS as exc:
        fail(str(exc))
    print_runs(runs)


@app.command()
def report(runs: Annotated[list[Path], typer.Argument(help="Run folders.")]) -> None:
    """Print the leaderboard of one or more runs."""
    print_runs(runs, with_groups=True)


@app.command()
def export(
    runs: Annotated[list[Path], typer.Argument(help="Run folders.")],
    csv: Annotated[Path | None, typer.Option(help="Write the leaderboard here.")] = None,
    samples: Annotated[Path | None, typer.Option(help="Write one row per item here.")] = None,
    submission: Annotated[Path | None, typer.Option(
        help="Write the official submission file (JSON) of one run on a split with hidden answers.")] = None,
    layout: Annotated[str, typer.Option(
        help="--csv layout: runs (a row per run), paper (benchmarks as rows, models as columns), "
             "paper-t (models as rows).")] = "runs",
    reference: Annotated[bool, typer.Option(
        "--reference", help="Add the papers' reported scores (and, for runs, the gap) to --csv.")] = False,
) -> None:
    """Write the leaderboard and/or the per-item table as CSV, or a benchmark's submission file."""
    from vlmeval.report import export_frame, leaderboard, load_runs, samples_frame, write_submission

    if csv is None and samples is None and submission is None:
        fail("nothing to export: give --csv FILE, --samples FILE and/or --submission FILE")
    try:
        loaded = load_runs(runs)
        board = export_frame(leaderboard(loaded), layout, reference) if csv is not None else None
    except USER_ERRORS as exc:
        fail(str(exc))
    if csv is not None and board is not None:
        board.to_csv(csv, index=False)
        console.print(f"leaderboard -> {csv}")
    if samples is not None:
        samples_frame(loaded).to_csv(samples, index=False)
        console.print(f"samples -> {samples}")
    if submission is not None:
        if len(loaded) != 1:
            fail("--submission takes exactly one run folder")
        try:
            write_submission(loaded[0][0], submission)
        except USER_ERRORS as exc:
            fail(str(exc))
        console.print(f"submission -> {submission}")


@app.command("list")
def list_(what: Annotated[str, typer.Argument(help="tasks, models or suites")]) -> None:
    """List the registered tasks, the model presets or the named suites."""
    if what == "tasks":
        table = Table(box=box.SIMPLE)
        for column in ("task", "splits", "metric", "dataset", "description"):
            table.add_column(column, no_wrap=column == "task")
        for task in sorted(all_tasks().values(), key=lambda t: t.name):
            splits = ", ".join(f"{k} ({v})" for k, v in task.source.splits.items())
            dataset = f"{task.source.hub_id}@{task.source.revision[:8]}"
            table.add_row(task.name, splits, task.metric, dataset, task.description)
    elif what == "models":
        table = Table(box=box.SIMPLE)
        for column in ("preset", "T", "top_p", "top_k", "presence", "max tokens", "thinking", "GPUs"):
            table.add_column(column, no_wrap=column == "preset")
        for preset in PRESETS.values():
            s = preset.sampling
            args = preset.engine_args
            experts = " EP" if args.get("enable_expert_parallel") else ""
            gpus = f"{args.get('tensor_parallel_size', 1)}{experts}"
            table.add_row(preset.name, str(s.temperature), str(s.top_p), str(s.top_k),
                          str(s.presence_penalty), str(s.max_tokens), "yes" if preset.thinking else "", gpus)
    elif what == "suites":
        table = _suites_table()
    else:
        fail(f"cannot list {what!r}: choose tasks, models or suites")
    console.print(table)


def _suites_table() -> Table:
    from vlmeval.suites import load_suite

    table = Table(box=box.SIMPLE)
    for column in ("suite", "tasks", "description"):
        table.add_column(column, no_wrap=column == "suite")
    for name in suite_files():
        suite = load_suite(name)
        table.add_row(name, str(len(suite.entries)), suite.description)
    return table


def main() -> None:
    app()
