"""Data parallelism for engines that own their accelerators: N engines in N processes, items shared out.

vLLM refuses `data_parallel_size > 1` offline, so each worker process builds its own engine (the model loads
once per worker) on its own slice of the visible devices, and pulls chunks of the run's requests until none
are left: a fast worker takes more chunks. Every response streams back to this process as it is produced,
so the runner stays the only writer of the store.

A worker that dies (killed, out of memory, crashed, or raising while building its engine or generating)
loses nothing: the unanswered items of its chunk go back to the queue for the others. When no worker is
left, every unanswered item comes back as an error Response, so a re-run asks for it again. No item is
yielded twice.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import pickle
import signal
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from vlmeval.engines.base import Engine
from vlmeval.engines.worker_process import FAILED, READY, RESPONSE, worker_main
from vlmeval.types import Request, Response

CHUNKS_PER_WORKER = 4
# How long a worker may take to exit after being asked (then SIGTERM), and after SIGTERM (then SIGKILL).
STOP_GRACE_S = 10.0
NO_RESPONSE = "the engine returned no response for this request"


def device_slices(workers: int, devices_per_worker: int, visible_devices: Sequence[str] | None) -> list[str]:
    """Each worker's CUDA_VISIBLE_DEVICES: consecutive slices of `devices_per_worker` devices."""
    if workers < 1 or devices_per_worker < 1:
        raise ValueError(f"data parallel needs workers >= 1 and devices_per_worker >= 1, "
                         f"got {workers} and {devices_per_worker}")
    if visible_devices is not None:
        devices, origin = [str(d).strip() for d in visible_devices], "visible_devices"
    elif (environment := os.environ.get("CUDA_VISIBLE_DEVICES")) is not None:
        devices = [d.strip() for d in environment.split(",") if d.strip()]
        origin = f"CUDA_VISIBLE_DEVICES={environment!r}"
    else:
        devices, origin = [str(i) for i in range(workers * devices_per_worker)], "default"
    needed = workers * devices_per_worker
    if len(devices) < needed:
        raise ValueError(f"data parallel needs {needed} devices ({workers} workers x {devices_per_worker} "
                         f"each) but only {len(devices)} are available ({origin})")
    return [",".join(devices[i * devices_per_worker:(i + 1) * devices_per_worker]) for i in range(workers)]


def default_chunk_size(items: int, workers: int) -> int:
    return max(1, math.ceil(items / (workers * CHUNKS_PER_WORKER)))


@dataclass
class _Worker:
    index: int
    devices: str
    process: BaseProcess
    connection: Connection
    chunk: list[Request] | None = None
    failure: str | None = None
    alive: bool = True
    reaped: bool = False


class DataParallelEngine:
    name = "data-parallel"

    def __init__(self, engine_factory: Callable[[], Engine], workers: int, devices_per_worker: int = 1,
                 visible_devices: Sequence[str] | None = None, chunk_size: int | None = None,
                 worker_description: dict[str, Any] | None = None, start_method: str = "spawn") -> None:
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        self.device_slices = device_slices(workers, devices_per_worker, visible_devices)
        self.workers = workers
        self.devices_per_worker = devices_per_worker
        self.chunk_size = chunk_size
        self.worker_description = dict(worker_description or {})
        self.start_method = start_method
        try:
            self._factory_pickle = pickle.dumps(engine_factory)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise ValueError("engine_factory must be picklable (a top-level function or a functools.partial "
                             f"of one) to reach the worker processes: {exc}") from exc

    def describe(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "workers": self.workers,
            "devices_per_worker": self.devices_per_worker,
            "device_slices": list(self.device_slices),
            "chunk_size": self.chunk_size or f"ceil(items / (workers * {CHUNKS_PER_WORKER}))",
            "worker": dict(self.worker_description),
        }

    def generate(self, requests: Sequence[Request]) -> Generator[Response, None, None]:
        if not requests:
            return
        size = self.chunk_size or default_chunk_size(len(requests), self.workers)
        chunks = [list(requests[start:start + size]) for start in range(0, len(requests), size)]
        workers: list[_Worker] = []
        finished = False
        try:
            for index in range(min(self.workers, len(chunks))):
                workers.append(self._start_worker(index))
            yield from _Dispatcher(workers, chunks, requests).responses()
            finished = True
        finally:  # also when the consumer stops early: no worker outlives the call
            stop_workers(workers, graceful=finished)

    def _start_worker(self, index: int) -> _Worker:
        context = multiprocessing.get_context(self.start_method)
        parent_end, child_end = context.Pipe(duplex=True)
        devices = self.device_slices[index]
        # Every concrete context has Process; typeshed's BaseContext (what a str start method gives) does not.
        process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=worker_main, args=(devices, self._factory_pickle, child_end),
            name=f"vlmeval-data-parallel-{index}")
        process.start()
        child_end.close()  # only the child holds its end now, so the child's death reads as EOF here
        return _Worker(index, devices, process, parent_end)


class _Dispatcher:
    """Hands chunks to workers that ask for one, relays their answers, and re-queues what a dead one held."""

    def __init__(self, workers: list[_Worker], chunks: list[list[Request]],
                 requests: Sequence[Request]) -> None:
        self.workers = workers
        self.queue: deque[list[Request]] = deque(chunks)
        self.unanswered = {request.sample_id: request for request in requests}
        self.idle: list[_Worker] = []
        self.last_death: str | None = None

    def responses(self) -> Iterator[Response]:
        while self.unanswered:
            live = [worker for worker in self.workers if worker.alive]
            if not live:
                break
            ready = wait([w.connection for w in live] + [w.process.sentinel for w in live])
            for worker in live:
                exited = worker.process.sentinel in ready
                if worker.alive and (exited or worker.connection in ready):
                    yield from self._read(worker, exited)
        reason = self.last_death or "data-parallel: no worker left"
        for sample_id in list(self.unanswered):
            del self.unanswered[sample_id]
            yield Response(sample_id, "", error=reason)

    def _read(self, worker: _Worker, exited: bool) -> Iterator[Response]:
        """Everything the worker has sent so far (all of it when it has exited), then its death if so."""
        while worker.alive:
            try:
                if not worker.connection.poll():
                    break
                kind, payload = worker.connection.recv()
            except (EOFError, OSError):
                self._bury(worker)
                return
            if kind == RESPONSE:
                if self.unanswered.pop(payload.sample_id, None) is not None:
                    yield payload
            elif kind == FAILED:
                worker.failure = payload
            elif kind == READY:
                yield from self._close_chunk(worker)
                self._dispatch(worker)
                if not exited:
                    return  # let the other workers be heard before this one's next chunk
        if exited and worker.alive:
            self._bury(worker)

    def _close_chunk(self, worker: _Worker) -> Iterator[Response]:
        """A finished chunk: an item the engine skipped is an error, not a silent gap."""
        for request in worker.chunk or []:
            if self.unanswered.pop(request.sample_id, None) is not None:
                yield Response(request.sample_id, "", error=NO_RESPONSE)
        worker.chunk = None

    def _dispatch(self, worker: _Worker) -> None:
        while self.queue:
            chunk = [r for r in self.queue.popleft() if r.sample_id in self.unanswered]
            if chunk:
                break
        else:
            self.idle.append(worker)
            return
        worker.chunk = chunk
        try:
            worker.connection.send(chunk)
        except OSError:  # it died between asking and receiving
            self._bury(worker)

    def _bury(self, worker: _Worker) -> None:
        worker.alive = False
        reap(worker, STOP_GRACE_S)
        reason = f"data-parallel worker {worker.index} died: exit {worker.process.exitcode}"
        self.last_death = reason + (f" ({worker.failure})" if worker.failure else "")
        if worker in self.idle:
            self.idle.remove(worker)
        leftover = [r for r in worker.chunk or [] if r.sample_id in self.unanswered]
        worker.chunk = None
        if leftover:
            self.queue.appendleft(leftover)
        while self.idle and self.queue:
            self._dispatch(self.idle.pop(0))


def stop_workers(workers: Sequence[_Worker], graceful: bool) -> None:
    """Stop every worker: ask politely when `graceful` (they are idle then), SIGTERM, SIGKILL; reap all."""
    running = [worker for worker in workers if not worker.reaped]
    if graceful:
        for worker in running:
            with contextlib.suppress(OSError):  # already gone
                worker.connection.send(None)
        _wait_for_exits(running, STOP_GRACE_S)
    for worker in running:
        if not _has_exited(worker):
            _signal_group(worker, signal.SIGTERM)
    _wait_for_exits(running, STOP_GRACE_S)
    for worker in running:
        reap(worker, 0.0)


def reap(worker: _Worker, grace_s: float) -> None:
    """Wait up to `grace_s` for the worker to exit, kill what is left of its process group (an engine's own
    child processes), and collect its exit status."""
    if worker.reaped:
        return
    _wait_for_exits([worker], grace_s)
    # Before join: an exited but unreaped worker still holds its pid, so the group id names only its group.
    _signal_group(worker, signal.SIGKILL)
    worker.process.join()
    worker.connection.close()
    worker.alive = False
    worker.reaped = True


def _signal_group(worker: _Worker, signum: int) -> None:
    pid = worker.process.pid
    if pid is None:
        return
    if hasattr(os, "killpg"):
        # No such group: the worker died before making it, or everything in it is gone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signum)  # the worker made its own group (see worker_main)
    if not _has_exited(worker):
        os.kill(pid, signum)  # a worker that has not made its group yet


def _has_exited(worker: _Worker) -> bool:
    return bool(wait([worker.process.sentinel], 0))


def _wait_for_exits(workers: Sequence[_Worker], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    waiting = [worker for worker in workers if not _has_exited(worker)]
    while waiting and (remaining := deadline - time.monotonic()) > 0:
        wait([worker.process.sentinel for worker in waiting], remaining)
        waiting = [worker for worker in waiting if not _has_exited(worker)]
