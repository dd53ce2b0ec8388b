"""Engines for the data-parallel tests, built inside the worker processes.

The factories are top-level functions (bound with functools.partial), so they pickle into spawned workers.
Each answer is tagged "answer|pid|CUDA_VISIBLE_DEVICES", so a test can see which worker answered what and
on which device slice.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from vlmeval.engines.scripted import ScriptedEngine
from vlmeval.types import Message, Request, Response, Sampling, TextPart

BARRIER_TIMEOUT_S = 60.0


def requests_for(count: int) -> list[Request]:
    """Requests q0..q{count-1} asking 'What is i + i?'."""
    return [Request(f"q{i}", (Message("user", (TextPart(f"What is {i} + {i}?"),)),), Sampling(16))
            for i in range(count)]


def answer(request: Request) -> str:
    """The fixture's right answer when the prompt asks 'What is N + N?', else the sample id."""
    text = " ".join(p.text for m in request.messages for p in m.content if isinstance(p, TextPart))
    found = re.search(r"What is (\d+) \+", text)
    return str(2 * int(found.group(1))) if found else request.sample_id


def tag(request: Request) -> str:
    return f"{answer(request)}|{os.getpid()}|{os.environ.get('CUDA_VISIBLE_DEVICES')}"


def await_all_workers(barrier_dir: str | None, parties: int) -> None:
    """A file barrier: every worker is built before any answers, so each gets a first chunk."""
    if barrier_dir is None:
        return
    directory = Path(barrier_dir)
    (directory / str(os.getpid())).touch()
    deadline = time.monotonic() + BARRIER_TIMEOUT_S
    while len(list(directory.iterdir())) < parties and time.monotonic() < deadline:
        time.sleep(0.01)


def tagging_engine(barrier_dir: str | None = None, parties: int = 0, delay_s: float = 0.0,
                   tagged: bool = True) -> ScriptedEngine:
    await_all_workers(barrier_dir, parties)
    return ScriptedEngine(tag if tagged else answer, delay_s)


def dying_engine(kill_devices: tuple[str, ...], kill_after: int, barrier_dir: str | None = None,
                 parties: int = 0, delay_s: float = 0.0) -> ScriptedEngine:
    """Answers `kill_after` items, then SIGKILLs its own process, when its device slice is in kill_devices."""
    await_all_workers(barrier_dir, parties)
    doomed = os.environ.get("CUDA_VISIBLE_DEVICES") in kill_devices
    answered = 0

    def script(request: Request) -> str:
        nonlocal answered
        if doomed and answered >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        answered += 1
        return tag(request)

    return ScriptedEngine(script, delay_s)


def hanging_engine() -> ScriptedEngine:
    """Answers one item, then hangs forever, deaf to SIGTERM (only SIGKILL stops it)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    answered = 0

    def script(request: Request) -> str:
        nonlocal answered
        while answered >= 1:
            time.sleep(3600)
        answered += 1
        return tag(request)

    return ScriptedEngine(script)


def broken_factory(broken_devices: tuple[str, ...]) -> ScriptedEngine:
    """Raises while building the engine on the given device slices (a model that fails to load there)."""
    devices = os.environ.get("CUDA_VISIBLE_DEVICES")
    if devices in broken_devices:
        raise RuntimeError(f"no GPU here ({devices})")
    return ScriptedEngine(tag)


class RaisingEngine(ScriptedEngine):
    """Answers `raise_after` items, then raises out of generate (an engine that breaks mid-chunk)."""

    def __init__(self, raise_after: int) -> None:
        super().__init__(tag)
        self.raise_after = raise_after

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        for response in super().generate(requests):
            if len(self.calls) > self.raise_after:
                raise RuntimeError("CUDA error: an illegal memory access was encountered")
            yield response


def raising_engine(raise_devices: tuple[str, ...], raise_after: int, barrier_dir: str,
                   parties: int) -> ScriptedEngine:
    await_all_workers(barrier_dir, parties)
    if os.environ.get("CUDA_VISIBLE_DEVICES") in raise_devices:
        return RaisingEngine(raise_after)
    return ScriptedEngine(tag, delay_s=0.01)
