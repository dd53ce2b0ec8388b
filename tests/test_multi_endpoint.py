"""OpenAIServerEngine over several endpoints: work spread by speed, per-endpoint concurrency, failover.

Each fake endpoint is a threaded `http.server` on 127.0.0.1 that answers "question <id>" with "answer <id>"
after a fixed latency, counts what it answered and its peak of requests in flight, and can be told to die
after K answers: from then on it answers 503, drops the connection without a reply, or stalls past the
client's timeout.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from vlmeval.engines.openai_server import OpenAIServerEngine
from vlmeval.types import Message, Request, Response, Sampling, TextPart

STALL_S = 1.5
TIMEOUT_S = 0.5  # of the client, when an endpoint stalls


class FakeEndpoint:
    def __init__(self, latency_s: float = 0.0, die_after: int | None = None, death: str = "503",
                 refuse: set[str] | None = None) -> None:
        self.latency_s = latency_s
        self.die_after = die_after  # answers given before it dies; None: never dies
        self.death = death  # "503", "drop" or "stall"
        self.refuse = refuse or set()  # sample ids answered with a 400
        self.admitted = 0  # requests it took on to answer (counted on arrival, so dying is exact)
        self.answered: list[str] = []
        self.failed: list[str] = []  # sample ids met with a 503 or a dropped connection
        self.in_flight = 0
        self.peak_in_flight = 0
        self.lock = threading.Lock()
        self.http = _Server(("127.0.0.1", 0), _Handler)
        self.http.endpoint = self
        self.thread = threading.Thread(target=self.http.serve_forever, args=(0.02,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/v1"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.thread.join(5)

    def fate(self, sample_id: str) -> str:
        """What this request meets: "ok", "refused", or the endpoint's death."""
        with self.lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            if sample_id in self.refuse:
                return "refused"
            if self.die_after is not None and self.admitted >= self.die_after:
                self.failed.append(sample_id)
                return self.death
            self.admitted += 1
            return "ok"

    def finish(self, sample_id: str, fate: str) -> None:
        with self.lock:
            self.in_flight -= 1
            if fate == "ok":
                self.answered.append(sample_id)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    endpoint: FakeEndpoint

    def handle_error(self, request: Any, client_address: Any) -> None:
        """The engine dropping a request it no longer wants (its endpoint was ejected) is expected."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each reply's body waits ~40 ms for the ACK of its headers
    server: _Server

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        sample_id = body["messages"][-1]["content"][0]["text"].removeprefix("question ")
        endpoint = self.server.endpoint
        fate = endpoint.fate(sample_id)
        time.sleep(endpoint.latency_s)
        endpoint.finish(sample_id, fate)
        if fate == "stall":
            time.sleep(STALL_S)
        if fate == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fate in ("503", "stall", "refused"):
            status = 400 if fate == "refused" else 503
            self._send(status, {"error": {"message": "unwell" if status == 503 else "bad request"}})
        else:
            self._send(200, completion(f"answer {sample_id}"))

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def completion(text: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}


@contextmanager
def serving(*endpoints: FakeEndpoint) -> Iterator[tuple[FakeEndpoint, ...]]:
    with ExitStack() as stack:
        for endpoint in endpoints:
            endpoint.start()
            stack.callback(endpoint.stop)
        yield endpoints


def requests_for(count: int) -> list[Request]:
    return [Request(str(i), (Message("user", (TextPart(f"question {i}"),)),), Sampling(max_tokens=8))
            for i in range(count)]


def engine_for(*base_urls: str, concurrency: int = 4, **options: Any) -> OpenAIServerEngine:
    settings = {"backoff_s": 0.01, "timeout_s": 10.0, "max_concurrency": concurrency} | options
    return OpenAIServerEngine("m", list(base_urls), api_key="test", **settings)


def answered_once(responses: list[Response], requests: list[Request]) -> dict[str, Response]:
    """Exactly one response per request, by id."""
    assert Counter(r.sample_id for r in responses) == Counter(r.sample_id for r in requests)
    return {response.sample_id: response for response in responses}


def standing(engine: OpenAIServerEngine) -> dict[str, dict[str, Any]]:
    return {entry["base_url"]: entry for entry in engine.describe()["endpoints"]}


def unlistened_url() -> str:
    with socket.socket() as probe:  # a port that was free a moment ago and that nothing listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/v1"


@pytest.mark.parametrize("death", ["503", "drop", "stall"])
def test_work_spreads_by_speed_and_a_dead_endpoint_is_ejected_and_its_items_reassigned(death: str) -> None:
    fast, slow = FakeEndpoint(0.01), FakeEndpoint(0.09)
    dying = FakeEndpoint(0.03, die_after=8, death=death)
    requests = requests_for(200)
    with serving(fast, dying, slow):
        engine = engine_for(fast.base_url, dying.base_url, slow.base_url, timeout_s=TIMEOUT_S)
        responses = list(engine.generate(requests))

    by_id = answered_once(responses, requests)
    assert {i: r.text for i, r in by_id.items()} == {r.sample_id: f"answer {r.sample_id}" for r in requests}
    assert not [r for r in responses if r.error]
    report = standing(engine)
    assert [report[e.base_url]["ejected"] for e in (fast, dying, slow)] == [False, True, False]
    assert len(fast.answered) > 2 * len(slow.answered) > 0  # ~9x by speed; loose on purpose
    # A reply still on its way when the endpoint was ejected is dropped: its item went to another one.
    assert len(dying.answered) == 8 >= report[dying.base_url]["answered"]
    assert report[dying.base_url]["failures"] >= 3 and report[dying.base_url]["handed_back"] >= 1
    assert sum(entry["answered"] for entry in report.values()) == len(requests)
    # Every item the dying endpoint failed was answered by another one instead.
    assert set(dying.failed) <= set(fast.answered) | set(slow.answered)


def test_each_endpoint_keeps_its_own_concurrency_limit() -> None:
    quick, slow = FakeEndpoint(0.02), FakeEndpoint(0.06)
    requests = requests_for(60)
    with serving(quick, slow):
        engine = engine_for(quick.base_url, slow.base_url, concurrency=3)
        responses = list(engine.generate(requests))

    answered_once(responses, requests)
    assert quick.peak_in_flight <= 3 and slow.peak_in_flight <= 3
    assert 3 in (quick.peak_in_flight, slow.peak_in_flight)  # the limit is used, not just respected


@pytest.mark.parametrize("death", ["503", "drop", "unlistened"])
def test_when_every_endpoint_is_dead_the_last_stays_and_every_request_gets_an_error(death: str) -> None:
    first, second = FakeEndpoint(die_after=0, death=death), FakeEndpoint(die_after=0, death=death)
    requests = requests_for(40)
    with serving(first, second):
        urls = [first.base_url, second.base_url] if death != "unlistened" else [unlistened_url(),
                                                                                  unlistened_url()]
        engine = engine_for(*urls, max_retries=5)
        responses = list(engine.generate(requests))

    answered_once(responses, requests)
    assert all(r.error and not r.text for r in responses)
    assert all("after 6 attempts" in (r.error or "") for r in responses)  # the last one's own retries
    # The first endpoint to fail 3 times in a row goes; the last one in rotation stays.
    assert sorted(entry["ejected"] for entry in standing(engine).values()) == [False, True]


def test_a_client_error_stays_the_items_own_and_does_not_eject() -> None:
    refused = {str(i) for i in range(10)}
    strict, other = FakeEndpoint(0.01, refuse=refused), FakeEndpoint(0.01, refuse=refused)
    requests = requests_for(30)
    with serving(strict, other):
        engine = engine_for(strict.base_url, other.base_url, concurrency=2)
        by_id = answered_once(list(engine.generate(requests)), requests)

    for sample_id, response in by_id.items():
        if sample_id in refused:
            assert response.error is not None and "HTTP 400" in response.error
        else:
            assert response.ok and response.text == f"answer {sample_id}"
    assert not any(entry["ejected"] for entry in standing(engine).values())


def test_a_single_endpoint_is_never_ejected_and_describes_as_before() -> None:
    """With nowhere to fail over to, failures are retried per request, as a one-endpoint engine always did."""
    endpoint = FakeEndpoint(die_after=0)
    requests = requests_for(6)
    with serving(endpoint):
        engine = OpenAIServerEngine("m", endpoint.base_url, max_concurrency=2, max_retries=2, backoff_s=0.001)
        responses = list(engine.generate(requests))

    answered_once(responses, requests)
    assert all("HTTP 503" in (r.error or "") and "after 3 attempts" in (r.error or "") for r in responses)
    assert len(endpoint.failed) == 6 * 3
    description = engine.describe()
    assert "base_urls" not in description and description["base_url"] == endpoint.base_url
    assert description["endpoints"] == [{"base_url": endpoint.base_url, "answered": 0, "failures": 18,
                                         "handed_back": 0, "ejected": False,
                                         "last_error": description["endpoints"][0]["last_error"]}]


def test_describe_lists_every_endpoint() -> None:
    engine = OpenAIServerEngine("m", ["http://a:1/v1", "http://b:2/v1"], eject_after_failures=5)
    description = engine.describe()
    assert description["base_url"] == "http://a:1/v1"
    assert description["base_urls"] == ["http://a:1/v1", "http://b:2/v1"]
    assert description["eject_after_failures"] == 5 and "endpoints" not in description
    with pytest.raises(ValueError, match="no repeats"):
        OpenAIServerEngine("m", ["http://a:1/v1", "http://a:1/v1"])
    with pytest.raises(ValueError, match="at least one"):
        OpenAIServerEngine("m", [])
