"""A first-class test double: answers computed by a function, with every call counted."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from vlmeval.types import Request, Response, Usage

Script = Callable[[Request], str]


class ScriptedEngine:
    name = "scripted"

    def __init__(self, script: Script, delay_s: float = 0.0) -> None:
        self.script = script
        self.delay_s = delay_s
        self.calls: list[str] = []

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        for request in requests:
            self.calls.append(request.sample_id)
            if self.delay_s:
                time.sleep(self.delay_s)
            try:
                text = self.script(request)
            except Exception as exc:  # a script may simulate a failing backend
                yield Response(request.sample_id, "", error=f"{type(exc).__name__}: {exc}")
                continue
            yield Response(request.sample_id, text, "stop", Usage(0, len(text.split())), self.delay_s)

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "script": getattr(self.script, "__name__", repr(self.script))}
