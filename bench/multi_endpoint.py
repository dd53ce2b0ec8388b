"""The OpenAI-compatible server engine over several endpoints of different speeds, against the ideal.

    python bench/multi_endpoint.py [--latency-ms 20 40 60 80] [--concurrency 8] [--requests 400 2000]
                                   [--suite-items 500]

Fake endpoints (asyncio HTTP/1.1 servers with keep-alive, all in one child process, so they add no queueing
of their own) answer every request after their own fixed latency. With per-endpoint concurrency C, endpoint
i can answer at most C / latency_i requests a second; the ideal wall time of N requests is N divided by the
sum of those throughputs, which is what perfect proportional sharing would reach. For each N the bench
prints wall / ideal and each endpoint's share of the requests against its share of the throughput. A
second row per N adds one more endpoint that answers 503 from the start: the engine should eject it after
a few failures and lose almost nothing. Requests are short text prompts, so the figures are the
scheduling's, not the payload's.

The client itself (one event loop, the openai package) costs CPU per request, which caps its rate on a small
machine below the endpoints' summed throughput. The bench measures that cap first (the same engine against
one instant endpoint at the total concurrency) and prints wall / bound too, where bound = max(ideal,
N / cap): the best any client of this speed could do.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_http import ANSWER, FakeHttpEndpoint

from vlmeval.engines.openai_server import OpenAIServerEngine
from vlmeval.types import Message, Request, Sampling, TextPart

UNWELL = b'{"error": {"message": "unwell", "type": "server_error"}}'


class FakeEndpoint(FakeHttpEndpoint):
    """Answers every POST after `latency_s` (503 at once when `dead`); counts requests and peak in flight."""

    def __init__(self, latency_s: float, dead: bool = False) -> None:
        self.latency_s = latency_s
        self.dead = dead
        self.in_flight = 0
        self.peak = 0

    async def respond(self, request_line: str) -> tuple[bytes, bytes]:
        if self.dead:
            return b"503 Service Unavailable", UNWELL
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(self.latency_s)
        self.in_flight -= 1
        return b"200 OK", ANSWER


def serve(latencies_s: list[float], ports_out: Any, peaks_in: Any, peaks_out: Any) -> None:
    """One child process: the live endpoints, an instant one, a dead one; sends their ports, and on request
    the peaks."""

    async def main() -> None:
        fakes = [FakeEndpoint(latency) for latency in [*latencies_s, 0.0]] + [FakeEndpoint(0.0, dead=True)]
        servers = [await asyncio.start_server(fake.handle, "127.0.0.1", 0, backlog=1024) for fake in fakes]
        ports_out.put([server.sockets[0].getsockname()[1] for server in servers])
        loop = asyncio.get_running_loop()
        while True:
            await loop.run_in_executor(None, peaks_in.get)
            peaks_out.put([fake.peak for fake in fakes])
            for fake in fakes:
                fake.peak = 0

    asyncio.run(main())


def text_requests(count: int) -> list[Request]:
    return [Request(str(index), (Message("user", (TextPart(f"What is {index} + {index}?"),)),),
                    Sampling(max_tokens=16)) for index in range(count)]


def measure(urls: list[str], requests: list[Request], concurrency: int) -> tuple[float, int, list[Any]]:
    """(wall s, errors, each endpoint's standing) of one run of the engine."""
    engine = OpenAIServerEngine("fake", urls, api_key="bench", max_concurrency=concurrency, max_retries=3,
                                backoff_s=0.05)
    started = time.perf_counter()
    errors = sum(response.error is not None for response in engine.generate(requests))
    wall = time.perf_counter() - started
    return wall, errors, engine.describe()["endpoints"]


def report(label: str, count: int, ideal: float, cap: float, outcome: tuple[float, int, list[Any]],
           throughputs: list[float], peaks: list[int]) -> None:
    wall, errors, endpoints = outcome
    bound = max(ideal, count / cap)
    shares = " ".join(
        f"{100 * entry['answered'] / count:4.1f}/{100 * rate / sum(throughputs):4.1f}%"
        for entry, rate in zip(endpoints, throughputs, strict=False))
    ejected = [index for index, entry in enumerate(endpoints) if entry["ejected"]]
    print(f"{label:<8} {count:>5} {ideal:>7.3f} {bound:>7.3f} {wall:>7.3f} {wall / ideal:>10.3f} "
          f"{wall / bound:>10.3f} {errors:>3}  "
          f"{shares}  peaks {peaks}  ejected {ejected or '-'}")


SUITE = ("mathvision", "mathvision-judged")


def measure_suite(urls: list[str], items: int, concurrency: int, scratch: Path) -> tuple[float, int, int]:
    """(wall s, requests, errors) of the runner's one generate call for a two-task suite on the MathVision
    fixture (prompt + one PNG per item), both tasks' items through one engine over all the endpoints."""
    from fixture import write_fixture

    from vlmeval.engines.factory import ServerOptions, build_engine
    from vlmeval.runner import RunOptions, generate_many, prepare

    data_dir = scratch / "mathvision"
    write_fixture(data_dir, items)
    model = "openai:" + ",".join(urls) + "#qwen3-vl-2b-instruct"
    runs = [prepare(RunOptions(task=task, model=model, data_dir=data_dir, output_dir=scratch / "results",
                               show_progress=False)) for task in SUITE]
    engine = build_engine(runs[0].model, ServerOptions(api_key_env="NONE", concurrency=concurrency))
    started = time.perf_counter()
    counts = generate_many(runs, engine, show_progress=False)
    wall = time.perf_counter() - started
    return wall, sum(c["requested"] for c in counts), sum(c["errors"] for c in counts)


def report_suite(urls: list[str], items: int, concurrency: int, throughputs: list[float]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        wall, requests, errors = measure_suite(urls, items, concurrency, Path(scratch))
    ideal = requests / sum(throughputs)
    print(f"suite {'+'.join(SUITE)} through the runner ({items} fixture items each, images as data URLs): "
          f"{requests} requests, ideal {ideal:.3f} s, wall {wall:.3f} s, wall/ideal {wall / ideal:.3f}, "
          f"errors {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[20.0, 40.0, 60.0, 80.0])
    parser.add_argument("--concurrency", type=int, default=8, help="per endpoint")
    parser.add_argument("--requests", type=int, nargs="+", default=[400, 2000])
    parser.add_argument("--suite-items", type=int, default=500, help="items per task of the suite row")
    args = parser.parse_args()
    latencies = [ms / 1000 for ms in args.latency_ms]
    throughputs = [args.concurrency / latency for latency in latencies]
    context = multiprocessing.get_context("spawn")
    ports_out, peaks_in, peaks_out = context.Queue(), context.Queue(), context.Queue()
    server = context.Process(target=serve, args=(latencies, ports_out, peaks_in, peaks_out), daemon=True)
    server.start()

    def peaks() -> list[int]:
        peaks_in.put(None)
        result: list[int] = peaks_out.get(timeout=10)
        return result

    try:
        urls = [f"http://127.0.0.1:{port}/v1" for port in ports_out.get(timeout=30)]
        live, instant, dead = urls[:-2], urls[-2], urls[-1]
        measure(live, text_requests(4 * len(live) * args.concurrency), args.concurrency)  # warm-up
        cap_requests = text_requests(max(args.requests))
        cap_wall = measure([instant], cap_requests, args.concurrency * len(live))[0]
        cap = len(cap_requests) / cap_wall
        peaks()
        print(f"endpoints: {args.latency_ms} ms per request, concurrency {args.concurrency} each; "
              f"ideal = N / {sum(throughputs):.0f} req/s (their summed throughput); "
              f"client cap {cap:.0f} req/s")
        print(f"{'run':<8} {'N':>5} {'ideal s':>7} {'bound s':>7} {'wall s':>7} {'wall/ideal':>10} "
              f"{'wall/bound':>10} {'err':>3}  share answered/ideal per endpoint")
        for count in args.requests:
            ideal = count / sum(throughputs)
            requests = text_requests(count)
            report("live", count, ideal, cap, measure(live, requests, args.concurrency), throughputs,
                   peaks())
            report("+1 dead", count, ideal, cap, measure([*live, dead], requests, args.concurrency),
                   [*throughputs, 0.0], peaks())
        report_suite(live, args.suite_items, args.concurrency, throughputs)
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
