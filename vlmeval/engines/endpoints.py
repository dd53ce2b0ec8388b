"""Several OpenAI-compatible endpoints serving one run: a shared work queue and each endpoint's health.

Every endpoint runs its own fixed pool of workers (its own concurrency limit), and every worker pulls the
next request from one shared `WorkQueue`, so a fast endpoint simply comes back for more sooner: the work
spreads in proportion to speed without any planning. An endpoint that fails `eject_after` times in a row
(connection errors, timeouts, 5xx, malformed bodies; see `is_endpoint_fault`) is ejected: its workers stop,
the requests they held go back to the queue, and the endpoints still in rotation answer them. The last
endpoint in rotation is never ejected: a burst of 503s everywhere must not turn the rest of a run into
errors, so its requests are retried with backoff and, at worst, fail on their own (a re-run asks again).

All of this lives on one event loop, so nothing here takes a lock.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from vlmeval.engines.retry import describe_error
from vlmeval.types import Request, Response


class WorkQueue:
    """The requests still to answer: those handed back by an ejected endpoint first, then the caller's.

    `take` waits rather than report the end while requests are still out with some worker, since an
    ejection may yet hand them back; it returns None only when nothing is left and nothing is out.
    """

    def __init__(self, requests: Iterable[Request]) -> None:
        self._fresh: Iterator[Request] = iter(requests)
        self._handed_back: deque[Request] = deque()
        self._out = 0
        self._changed = asyncio.Event()

    async def take(self) -> Request | None:
        while True:
            request = self._next()
            if request is not None:
                self._out += 1
                return request
            if self._out == 0:
                return None
            self._changed.clear()
            await self._changed.wait()

    def done(self) -> None:
        """A taken request is answered for good."""
        self._out -= 1
        self._changed.set()

    def hand_back(self, request: Request) -> None:
        """A taken request goes back, to be answered by whichever worker asks next."""
        self._out -= 1
        self._handed_back.append(request)
        self._changed.set()

    def drain(self) -> list[Request]:
        """Whatever no worker will take any more (every endpoint is ejected)."""
        left = list(self._handed_back)
        self._handed_back.clear()
        left.extend(self._fresh)
        return left

    def _next(self) -> Request | None:
        if self._handed_back:
            return self._handed_back.popleft()
        return next(self._fresh, None)


@dataclass
class Endpoint:
    """One base URL's standing in a run, and the worker tasks to stop should it be ejected."""

    base_url: str
    answered: int = 0  # completions received
    failures: int = 0  # endpoint faults met, retried or not
    consecutive_failures: int = 0
    handed_back: int = 0  # requests it gave back to the queue when it was ejected
    ejected: bool = False
    last_error: str | None = None
    workers: set[asyncio.Task[Any]] = field(default_factory=set, repr=False)

    def summary(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "answered": self.answered, "failures": self.failures,
                "handed_back": self.handed_back, "ejected": self.ejected, "last_error": self.last_error}


class EndpointPool:
    """The endpoints of one run and the rule that takes one out of rotation.

    The last endpoint in rotation (the only one, with a single URL) is never ejected: there is nowhere to
    fail over to, so its requests are retried and, at worst, fail on their own, exactly as a one-endpoint
    engine always did.
    """

    def __init__(self, base_urls: Sequence[str], eject_after: int) -> None:
        self.endpoints = [Endpoint(url) for url in base_urls]
        self.eject_after = eject_after

    def in_rotation(self) -> int:
        return sum(not endpoint.ejected for endpoint in self.endpoints)

    def record_success(self, endpoint: Endpoint) -> None:
        endpoint.answered += 1
        endpoint.consecutive_failures = 0

    def record_fault(self, endpoint: Endpoint, error: str) -> bool:
        """Count an endpoint fault; True when it ejects the endpoint (the caller then hands its request
        back). The endpoint's other workers are cancelled, and hand back what they hold."""
        endpoint.failures += 1
        endpoint.consecutive_failures += 1
        endpoint.last_error = error
        if endpoint.ejected:
            return True
        if self.in_rotation() <= 1 or endpoint.consecutive_failures < self.eject_after:
            return False
        endpoint.ejected = True
        current = asyncio.current_task()
        for worker in endpoint.workers:
            if worker is not current:
                worker.cancel()
        return True

    def why_none_left(self) -> str:
        """The error of a request no worker took (cannot happen while the last endpoint stays; kept so
        that no request is ever lost silently)."""
        last = "; ".join(f"{e.base_url}: {e.last_error}" for e in self.endpoints)
        return f"no endpoint answered this request ({last})"

    def summary(self) -> list[dict[str, Any]]:
        return [endpoint.summary() for endpoint in self.endpoints]


AnswerOn = Callable[[Endpoint, Request], Awaitable[Response | None]]
Deliver = Callable[[Response], None]


async def answer_all(pool: EndpointPool, requests: Sequence[Request], workers_each: int, answer_on: AnswerOn,
                     deliver: Deliver) -> None:
    """Answer every request once through the pool: `workers_each` workers per endpoint pull from one queue.

    `answer_on(endpoint, request)` gives the request's response from that endpoint, or None when a failure
    there ejected it (the request then goes back to the queue). Each response goes to `deliver` as soon as
    it is made; requests left when every endpoint is ejected get an error response.
    """
    work = WorkQueue(requests)
    tasks = []
    for endpoint in pool.endpoints:
        for _ in range(workers_each):
            task = asyncio.create_task(_work(endpoint, work, answer_on, deliver))
            endpoint.workers.add(task)
            tasks.append(task)
    # Workers of an ejected endpoint end cancelled: not a failure of the run.
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    for endpoint in pool.endpoints:
        endpoint.workers.clear()
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
    for request in work.drain():  # never in practice: the last endpoint is not ejected
        deliver(Response(sample_id=request.sample_id, text="", error=pool.why_none_left()))


async def _work(endpoint: Endpoint, work: WorkQueue, answer_on: AnswerOn, deliver: Deliver) -> None:
    """One worker of one endpoint: answer requests from the shared queue until none is left or the
    endpoint is ejected, then hand back whatever it holds."""
    while not endpoint.ejected:
        request = await work.take()
        if request is None:
            return
        try:
            response = await answer_on(endpoint, request)
        except asyncio.CancelledError:  # its endpoint was ejected, or the whole run is closing
            _hand_back(endpoint, work, request)
            raise
        except Exception as exc:  # a bug here must not lose other requests
            response = Response(sample_id=request.sample_id, text="", error=describe_error(exc))
        if response is None:
            _hand_back(endpoint, work, request)
            return
        work.done()
        deliver(response)


def _hand_back(endpoint: Endpoint, work: WorkQueue, request: Request) -> None:
    if endpoint.ejected:
        endpoint.handed_back += 1
    work.hand_back(request)
