"""The child side of the data-parallel engine: build one engine, then answer chunks until told to stop.

The conversation with the parent runs over one pipe per worker, so a worker killed mid-message can only
tear its own channel, never a lock or queue the others share. The child says READY when it can take a
chunk (after its engine is built, and after each chunk), streams one RESPONSE per answer as the engine
produces it, and sends FAILED with the reason before exiting when building the engine or generating raises.
The parent answers READY with a list of requests, or None to stop.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from multiprocessing.connection import Connection, wait
from typing import Final, NoReturn

from vlmeval.engines.base import Engine

READY: Final = "ready"
RESPONSE: Final = "response"
FAILED: Final = "failed"


def worker_main(devices: str, factory_pickle: bytes, connection: Connection) -> None:
    """Entry point of a worker process (started with the spawn method)."""
    # Own process group: the parent can stop the worker together with anything its engine started
    # (vLLM's engine-core processes), and Ctrl-C in the terminal reaches only the parent, which stops us.
    if hasattr(os, "setpgrp"):
        os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    # Set before the factory is even unpickled, so no import can initialise CUDA with the parent's devices.
    os.environ["CUDA_VISIBLE_DEVICES"] = devices
    try:
        engine: Engine = pickle.loads(factory_pickle)()
    except Exception as exc:  # any failure to build the engine is reported, then the worker exits
        _fail(connection, exc)
    try:
        serve(engine, connection)
    except (EOFError, BrokenPipeError):
        return  # the parent is gone; nobody is left to answer
    except Exception as exc:  # an engine that raises mid-chunk: its unanswered items go to the others
        _fail(connection, exc)


def serve(engine: Engine, connection: Connection) -> None:
    """Answer chunks with one engine (so a model loads once per worker) until the parent sends None."""
    while True:
        connection.send((READY, None))
        chunk = connection.recv()
        if chunk is None:
            return
        for response in engine.generate(chunk):
            connection.send((RESPONSE, response))


def _die_with_parent() -> None:
    """If the parent dies (even SIGKILLed), end this worker and its process group at once: a worker in the
    middle of a long engine call would otherwise hold its GPUs until the call returned."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        if hasattr(os, "killpg") and os.getpgrp() == os.getpid():
            os.killpg(0, signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _fail(connection: Connection, error: BaseException) -> NoReturn:
    with contextlib.suppress(OSError):  # the parent is gone
        connection.send((FAILED, f"{type(error).__name__}: {error}"))
    sys.exit(1)
