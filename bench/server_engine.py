"""The OpenAI-compatible server engine against the ideal: a fake server that answers every request after a
fixed latency, N items at concurrency C; the ideal wall time is N x latency / C.

    python bench/server_engine.py [--latency-ms 50] [--concurrency 1 4 16 64] [--seconds 2.5]

The fake server runs in its own process (an asyncio HTTP/1.1 server with keep-alive, so it adds no
queueing of its own) and counts the requests it holds at once. The requests are the harness's own:
MathVision fixture items rendered by the real task, each with its PNG sent as a data URL. For each C the
bench sizes N so the ideal run takes about `--seconds`, then prints wall / ideal (target <= 1.05).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_http import ANSWER, FakeHttpEndpoint
from fixture import write_fixture

from vlmeval.engines.openai_server import OpenAIServerEngine, chat_messages, request_body
from vlmeval.runner import RunOptions, build_requests, prepare
from vlmeval.types import Request


class FixedLatencyServer(FakeHttpEndpoint):
    """Answers every POST after `latency_s`; GET /stats returns and resets {requests, peak_in_flight}."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.in_flight = 0
        self.peak = 0
        self.requests = 0

    async def respond(self, request_line: str) -> tuple[bytes, bytes]:
        if request_line.startswith("GET /stats"):
            stats = {"requests": self.requests, "peak_in_flight": self.peak}
            self.requests = self.peak = 0
            return b"200 OK", json.dumps(stats).encode()
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(self.latency_s)
        self.in_flight -= 1
        self.requests += 1
        return b"200 OK", ANSWER


def serve(latency_s: float, port_out: Any) -> None:
    async def main() -> None:
        fake = FixedLatencyServer(latency_s)
        server = await asyncio.start_server(fake.handle, "127.0.0.1", 0, backlog=1024)
        port_out.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


def server_stats(port: int) -> dict[str, int]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as reply:
        result: dict[str, int] = json.loads(reply.read())
        return result


def harness_requests(count: int, scratch: Path) -> list[Request]:
    """`count` MathVision fixture items rendered by the real task (prompt text plus one PNG each)."""
    data_dir = scratch / "mathvision"
    write_fixture(data_dir, count)
    prepared = prepare(RunOptions(task="mathvision", model="qwen3-vl-2b-instruct", data_dir=data_dir,
                                  output_dir=scratch / "results", show_progress=False))
    return build_requests(prepared, prepared.samples)


def measure(port: int, requests: list[Request], concurrency: int) -> tuple[float, float, int]:
    """(wall s, this process's CPU ms per request, errors) of the harness's engine."""
    engine = OpenAIServerEngine("fake", f"http://127.0.0.1:{port}/v1", api_key="bench",
                                max_concurrency=concurrency, max_retries=0)
    started, cpu = time.perf_counter(), time.process_time()
    errors = sum(response.error is not None for response in engine.generate(requests))
    cpu_ms = 1e3 * (time.process_time() - cpu) / len(requests)
    return time.perf_counter() - started, cpu_ms, errors


def measure_bare_client(port: int, requests: list[Request], concurrency: int) -> float:
    """The floor of the transport: the bare AsyncOpenAI client, C tasks pulling from one queue, the same
    payloads already converted (data URLs made before the clock starts), no store, no threads."""
    import openai

    bodies: list[tuple[Any, dict[str, Any]]] = [(chat_messages(r.messages), request_body(r))
                                                for r in requests]

    async def drive() -> None:
        todo = iter(bodies)
        async with openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="bench",
                                      max_retries=0) as client:

            async def worker() -> None:
                for messages, body in todo:
                    await client.chat.completions.create(model="fake", messages=messages, **body)

            await asyncio.gather(*(worker() for _ in range(min(concurrency, len(bodies)))))

    started = time.perf_counter()
    asyncio.run(drive())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--seconds", type=float, default=2.5, help="ideal wall time of each measurement")
    args = parser.parse_args()
    latency_s = args.latency_ms / 1000
    sizes = {c: max(c, round(args.seconds * c / latency_s)) for c in args.concurrency}
    context = multiprocessing.get_context("spawn")
    port_queue = context.Queue()
    server = context.Process(target=serve, args=(latency_s, port_queue), daemon=True)
    server.start()
    try:
        port = port_queue.get(timeout=30)
        with tempfile.TemporaryDirectory() as scratch:
            pool = harness_requests(max(sizes.values()), Path(scratch))
            measure(port, pool[:8], 4)  # warm-up: imports, client construction, first connections
            server_stats(port)
            print(f"fake server: {args.latency_ms:g} ms per request; MathVision fixture requests "
                  f"(prompt + one PNG as a data URL); ideal = N x latency / C")
            print(f"{'C':>4} {'N':>5} {'ideal s':>7} {'engine s':>8} {'engine/ideal':>12} {'req/s':>6} "
                  f"{'CPU ms/req':>10} {'peak':>4} {'err':>3} | {'bare client s':>13} {'bare/ideal':>10} "
                  f"{'engine/bare':>11}")
            for concurrency, count in sizes.items():
                wall, cpu_ms, errors = measure(port, pool[:count], concurrency)
                peak = server_stats(port)["peak_in_flight"]
                bare = measure_bare_client(port, pool[:count], concurrency)
                ideal = count * latency_s / concurrency
                print(f"{concurrency:>4} {count:>5} {ideal:>7.3f} {wall:>8.3f} {wall / ideal:>12.3f} "
                      f"{count / wall:>6.0f} {cpu_ms:>10.2f} {peak:>4} {errors:>3} | {bare:>13.3f} "
                      f"{bare / ideal:>10.3f} {wall / bare:>11.3f}")
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
