"""The leaderboard and judge-usage tables that run, score and report print."""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from vlmeval.commands import fail
from vlmeval.store import RunNotFoundError

console = Console()


def print_runs(runs: list[Path], with_groups: bool = False) -> None:
    from vlmeval.report import breakdowns, leaderboard, load_runs, official_scores

    try:
        loaded = load_runs(runs)
    except RunNotFoundError as exc:
        fail(str(exc))
    board = leaderboard(loaded)
    # The paper's three columns only when some run has a reported number: 80 columns fit no more.
    referenced = bool(board["within_ci"].notna().any())
    table = Table(box=box.SIMPLE)
    for column in ("task", "split", "model", "n", "score", "± stderr",
                   *(("paper", "gap", "in CI") if referenced else ()), "errors", "judge needed", "guessed"):
        table.add_column(column, no_wrap=column == "model")
    for row in board.itertuples():
        against_paper = reference_cells(row.paper, row.gap, row.within_ci) if referenced else ()
        table.add_row(row.task, row.split, row.model, str(row.n), f"{row.score:.2f}", f"{row.stderr:.2f}",
                      *against_paper, str(row.errors), str(row.judge_needed), str(row.random_fallback))
    console.print(table)
    if with_groups:
        extras = official_scores(loaded)
        if not extras.empty:
            console.print("\n[bold]task scores[/]")
            console.print(extras.round(4).to_string())
        for key, frame in breakdowns(loaded).items():
            console.print(f"\n[bold]by {key}[/]")
            console.print(frame.round(2).to_string())


def print_judge(metrics: dict) -> None:
    usage = metrics.get("judge")
    if usage:
        console.print(f"judge {usage['model']}: {usage['judge_needed']} items, {usage['judged']} judged, "
                      f"{usage['judge_errors']} errors; {usage['judge_calls']} calls, "
                      f"{usage['judge_cache_hits']} cached; tokens {usage['prompt_tokens']} in, "
                      f"{usage['completion_tokens']} out")


def reference_cells(paper: float, gap: float, within_ci: bool | None) -> tuple[str, str, str]:
    """The paper's value, our gap to it and whether that gap is inside our 95% interval; blank cells for a
    run the papers report no number for."""
    if within_ci is None:
        return "", "", ""
    return f"{paper:g}", f"{gap:+.2f}", "yes" if within_ci else "no"
