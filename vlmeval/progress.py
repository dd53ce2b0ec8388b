"""A rich progress bar with items/s and ETA, on stderr so stdout stays clean for tables and CSV."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

stderr_console = Console(stderr=True)


class ItemsPerSecondColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- it/s" if speed is None else f"{speed:,.1f} it/s", style="progress.data.speed")


class Step:
    """One bar; `advance(n)` as items finish."""

    def __init__(self, progress: Progress, description: str, total: int) -> None:
        self._progress = progress
        self._task_id = progress.add_task(description, total=total)

    def advance(self, count: int = 1) -> None:
        self._progress.advance(self._task_id, count)


@contextmanager
def step(description: str, total: int, enabled: bool = True) -> Iterator[Step]:
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        ItemsPerSecondColumn(), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
        console=stderr_console, disable=not enabled,
    )
    with progress:
        yield Step(progress, description, total)
