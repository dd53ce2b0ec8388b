"""The engine contract: turn requests into responses, in any order, all submitted at once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from vlmeval.types import Request, Response


class Engine(Protocol):
    """Something that answers requests.

    `generate` receives every pending request of a run in one call, so a batching backend can keep
    the accelerator full, and yields each response as soon as it exists (order is free; match by
    `sample_id`). A failure of one request is a Response with `error` set, never an exception that
    loses the others.
    """

    name: str

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]: ...

    def describe(self) -> dict[str, Any]:
        """Settings that reach the backend, for the run manifest."""
        ...
