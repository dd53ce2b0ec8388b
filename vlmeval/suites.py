"""Named suites: the list of (task, split, task options) that one report scores, run as one command.

A suite is a TOML file: `description`, optionally `reference` (the results/reference CSV whose numbers
it reproduces) and `tasks`, an array of `{ task = "...", split = "...", options = { ... } }` (split and
options optional). The shipped ones live in the repo's `suites/` (an installed wheel carries them as
`vlmeval/suite_files/`); `--suite PATH.toml` runs a file of the user's own.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent
CANDIDATE_DIRS = (_PACKAGE_DIR.parent / "suites", _PACKAGE_DIR / "suite_files")


class SuiteError(ValueError):
    pass


@dataclass(frozen=True)
class SuiteEntry:
    task: str
    split: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    entries: tuple[SuiteEntry, ...]
    reference: str | None = None


def suite_files() -> dict[str, Path]:
    """Shipped suites by name (the file's stem); the first candidate folder that exists wins."""
    for directory in CANDIDATE_DIRS:
        if directory.is_dir():
            return {path.stem: path for path in sorted(directory.glob("*.toml"))}
    return {}


def load_suite(name_or_path: str) -> Suite:
    shipped = suite_files()
    path = shipped.get(name_or_path) or Path(name_or_path)
    if not path.is_file():
        known = ", ".join(shipped) or "none"
        raise SuiteError(f"unknown suite {name_or_path!r}: not a shipped suite ({known}) or a .toml file")
    try:
        content = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"{path}: not valid TOML: {exc}") from exc
    entries = tuple(_entry(path, raw) for raw in content.get("tasks", []))
    if not entries:
        raise SuiteError(f"{path}: the suite lists no tasks")
    return Suite(path.stem, str(content.get("description", "")), entries, content.get("reference"))


def _entry(path: Path, raw: Any) -> SuiteEntry:
    if not isinstance(raw, dict) or not isinstance(raw.get("task"), str):
        raise SuiteError(f"{path}: each entry of tasks needs a task name, got {raw!r}")
    unknown = sorted(set(raw) - {"task", "split", "options"})
    if unknown:
        raise SuiteError(f"{path}: entry {raw['task']!r} has unknown keys {unknown}")
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise SuiteError(f"{path}: options of {raw['task']!r} must be a table")
    return SuiteEntry(raw["task"], raw.get("split"), dict(options))
