"""Name -> Task. Built-in and third-party tasks both arrive through the `vlmeval.tasks` entry point.

An entry point is loaded only when its task is asked for (or when all are listed), so one broken
plugin cannot stop a run of another task.
"""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint, entry_points

from vlmeval.task import Task

ENTRY_POINT_GROUP = "vlmeval.tasks"
_registered: dict[str, Task] = {}


class UnknownTaskError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def register_task(task: Task) -> Task:
    """Register a task from code (tests, notebooks). Entry points are the way for packages."""
    _registered[task.name] = task
    return task


def _entry_points() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}


def _load(entry: EntryPoint) -> Task:
    try:
        task = entry.load()
    except Exception as exc:  # a plugin may fail in any way; say which one and why
        raise UnknownTaskError(f"task plugin {entry.name!r} ({entry.value}) failed to load: {exc}") from exc
    if not isinstance(task, Task):
        raise UnknownTaskError(f"task plugin {entry.name!r} gave a {type(task).__name__}, not a Task")
    return task


def all_tasks() -> dict[str, Task]:
    tasks: dict[str, Task] = {}
    for name, entry in _entry_points().items():
        try:
            tasks[name] = _load(entry)
        except UnknownTaskError as exc:
            print(f"warning: {exc}", file=sys.stderr)
    return {**tasks, **_registered}


def get_task(name: str) -> Task:
    if name in _registered:
        return _registered[name]
    entries = _entry_points()
    if name not in entries:
        known = ", ".join(sorted({*entries, *_registered})) or "none"
        raise UnknownTaskError(f"unknown task {name!r} (known: {known})")
    return _load(entries[name])
