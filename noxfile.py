"""Sessions: tests (what CI runs), lint, typecheck, bench."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    # torch's CPU build first (this machine kind carries its wheel; pip takes it for ==2.13.0), so the
    # transformers extra adds no CUDA packages and the tiny Qwen-VL models run in the suite on CPU.
    session.install("torch==2.13.0")
    # A plain (not editable) install, so the suite also proves that tasks/, prompts/ and judges/ ship.
    session.install(".[test,transformers]")
    # Exit 5 means "no tests collected" (e.g. a filtered run): not a failure of the code under test.
    session.run("pytest", *session.posargs, success_codes=[0, 5])


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.15")
    session.run("ruff", "check", "vlmeval", "tasks", "prompts", "judges", "tests", "bench", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[test]", "mypy>=1.18")
    session.run("mypy", "vlmeval", "tasks")


@nox.session
def bench(session: nox.Session) -> None:
    session.install(".")
    session.run("python", "bench/overhead.py")
    session.run("python", "bench/mathvision_scoring.py")
