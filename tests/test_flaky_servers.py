"""Flaky servers: the engine and the judge against a local server that fails at set, seeded rates.

Rates per request: 20% 429 (Retry-After: 1), 10% 500, 5% timeouts, 5% truncated bodies, 5% malformed JSON.
Which request meets which fault is fixed by the seed and the prompt (see flaky_server), so every item's fate
is known in advance: answered at the first attempt that meets no fault, an error once all `MAX_RETRIES + 1`
attempts have failed. The tests check that the run finishes, that the server saw exactly the planned
requests (never more than items x (MAX_RETRIES + 1)), that every failure is stored as that item's error
and reported (never a silent wrong answer), and that a second pass asks again for the failures only.
Last, a 200 whose body is an HTML page is retried as a malformed reply, by the engine and the judge alike.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from conftest import make_png, mathvision_rows, write_hub_parquet
from flaky_server import (
    PROMPT_TOKENS,
    FaultRates,
    FlakyServer,
    Hit,
    completion_body,
    fixture_answer,
    fixture_item,
)
from hubdata import write_rows
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request as WerkzeugRequest
from werkzeug import Response as WerkzeugResponse

from vlmeval import cli
from vlmeval.engines.openai_server import OpenAIServerEngine
from vlmeval.engines.scripted import ScriptedEngine
from vlmeval.judging.client import JudgeCall, JudgeClient, JudgeReply
from vlmeval.judging.spec import JudgeSettings
from vlmeval.runner import RunOptions, run
from vlmeval.store import RunStore, read_jsonl
from vlmeval.types import Message, Request, Sampling, TextPart

RATES = FaultRates(too_many_requests=0.20, server_error=0.10, timeout=0.05, truncated=0.05, malformed=0.05)
SEED = 11
MAX_RETRIES = 2
TIMEOUT_S = 1.0
STALL_S = 2.5  # past the client's timeout
RETRY_AFTER_S = 1
CONCURRENCY = 8
ENGINE_ITEMS = 60
JUDGE_ITEMS = 40
# How each fault reads in the error text of an item that met it last.
ERROR_TEXT = {"429": "HTTP 429", "500": "HTTP 500", "timeout": "APITimeoutError",
              "truncated": "APIConnectionError", "malformed": "malformed response body"}


def flaky(answer: Any, rates: FaultRates | None = RATES) -> FlakyServer:
    return FlakyServer(answer, rates, seed=SEED, stall_s=STALL_S, retry_after=str(RETRY_AFTER_S))


def planned_fate(server: FlakyServer, prompt: str) -> tuple[int, str | None]:
    """(attempts the client makes, the fault of the last one or None when it is answered)."""
    plan = server.plan(prompt, MAX_RETRIES + 1)
    for attempt, fault in enumerate(plan):
        if fault is None:
            return attempt + 1, None
    return len(plan), plan[-1]


def hits_by_prompt(server: FlakyServer) -> dict[str, list[Hit]]:
    grouped: dict[str, list[Hit]] = defaultdict(list)
    for hit in server.hits:
        grouped[hit.prompt].append(hit)
    return grouped


def check_server_saw_the_plan(server: FlakyServer, prompts: int) -> dict[str, str]:
    """Every prompt was asked as planned and 429s were waited out; returns failed prompt -> last fault."""
    grouped = hits_by_prompt(server)
    assert len(grouped) == prompts
    assert server.requests() <= prompts * (MAX_RETRIES + 1)
    failures = {}
    for prompt, hits in grouped.items():
        attempts, last_fault = planned_fate(server, prompt)
        assert [hit.fault for hit in hits] == server.plan(prompt, attempts), prompt
        for earlier, later in itertools.pairwise(hits):
            if earlier.fault == "429":
                assert later.at - earlier.at >= RETRY_AFTER_S * 0.95, "Retry-After was not honoured"
        if last_fault is not None:
            failures[prompt] = last_fault
    seen = Counter(hit.fault for hit in server.hits)
    assert set(seen) >= {"429", "500", "timeout", "truncated", "malformed", None}, seen
    assert failures, "the seed should leave some items failing after every retry"
    print(f"\n{prompts} prompts, {server.requests()} requests (bound {prompts * (MAX_RETRIES + 1)}), "
          f"faults met {dict(seen)}, failed after every retry: {len(failures)} {Counter(failures.values())}")
    return failures


# ---- the engine -------------------------------------------------------------------------------------


def use_engine_of(server: FlakyServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI has no flags for the engine's timeout, retries and backoff: build it here, with short ones."""
    def build(model: Any, options: Any, parallel: Any = None) -> OpenAIServerEngine:
        return OpenAIServerEngine("flaky", server.base_url, max_concurrency=CONCURRENCY,
                                  max_retries=MAX_RETRIES, timeout_s=TIMEOUT_S, backoff_s=0.01)

    monkeypatch.setattr("vlmeval.runner.build_engine", build)


def cli_run(data_dir: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(cli.console, "width", 200)  # every column of the report table, untruncated
    result = CliRunner().invoke(cli.app, [
        "run", "--task", "mathvision", "--model", "openai:qwen3-vl-2b-instruct", "--data-dir", str(data_dir),
        "--output-dir", str(out), "--score-workers", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    return result.output


def reported_errors(output: str) -> tuple[int, int]:
    """The errors of the `run:` line and of the report table's row (errors, judge needed, guessed)."""
    run_line = re.search(r"^run: .*errors (\d+)\)", output, re.MULTILINE)
    assert run_line is not None
    row = next(line for line in output.splitlines() if re.match(r"\s*mathvision\s", line))
    return int(run_line.group(1)), int(re.split(r"\s{2,}", row.strip())[-3])


def expected_score(item: str) -> float:
    return 0.0 if int(item) % 5 == 0 else 1.0  # fixture_answer's deliberate mistakes


def test_engine_on_a_flaky_server_bounds_retries_and_records_what_still_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir, out = tmp_path / "data", tmp_path / "out"
    write_hub_parquet(data_dir, "test", mathvision_rows(ENGINE_ITEMS))
    with flaky(fixture_answer) as server:
        use_engine_of(server, monkeypatch)
        output = cli_run(data_dir, out, monkeypatch)
    planned_failures = check_server_saw_the_plan(server, ENGINE_ITEMS)
    failures = {fixture_item(prompt): fault for prompt, fault in planned_failures.items()}
    assert reported_errors(output) == (len(failures), len(failures))
    (run_dir,) = out.iterdir()
    failed = RunStore(run_dir).failed()
    assert set(failed) == set(failures)
    for item, fault in failures.items():
        error = failed[item].error or ""
        assert ERROR_TEXT[fault] in error and error.endswith(f"after {MAX_RETRIES + 1} attempts"), error
    for record in read_jsonl(run_dir / "scores.jsonl"):
        if record["id"] in failures:  # an error with its text, never a wrong answer
            assert record["error"] == failed[record["id"]].error
            assert record["prediction"] is None and record["score"] == 0
        else:
            assert record["error"] is None and record["score"] == expected_score(record["id"]), record
    metrics = json.loads((run_dir / "metrics.json").read_text())["overall"]
    assert (metrics["n"], metrics["errors"]) == (ENGINE_ITEMS, len(failures))

    with flaky(fixture_answer, rates=None) as healthy:  # the same command again, once the server is well
        use_engine_of(healthy, monkeypatch)
        output = cli_run(data_dir, out, monkeypatch)
    assert sorted(fixture_item(hit.prompt) for hit in healthy.hits) == sorted(failures)
    assert reported_errors(output) == (0, 0)
    scores = {r["id"]: r["score"] for r in read_jsonl(run_dir / "scores.jsonl")}
    assert scores == {str(i): expected_score(str(i)) for i in range(1, ENGINE_ITEMS + 1)}


# ---- the judge --------------------------------------------------------------------------------------


def judged_rows() -> list[dict[str, Any]]:
    return [{"question": f"Q{index} which way?\nA. left\nB. right\nC. up\nPlease answer with the letter.",
             "answer": "ABC"[index % 3], "image": make_png(index)} for index in range(JUDGE_ITEMS)]


def question_of(text: str) -> int:
    return int(re.findall(r"Q(\d+)", text)[-1])


def unsure_model(request: Any) -> str:
    """An answer no rule can read, so every item goes to the judge."""
    text = "".join(getattr(part, "text", "") for part in request.messages[-1].content)
    return f"I am unsure about Q{question_of(text)}."


def judge_answer(prompt: str) -> str:
    """The judge picks the right letter for even questions and a wrong one for odd ones."""
    index = question_of(prompt.split("Now the real one:")[-1])
    return "ABC"[(index + index % 2) % 3]


def judge_settings(server: FlakyServer) -> JudgeSettings:
    return JudgeSettings(base_url=server.base_url, concurrency=4, max_retries=MAX_RETRIES, backoff_s=0.01,
                         timeout_s=TIMEOUT_S)


def judged_run(tmp_path: Path, server: FlakyServer) -> dict[str, Any]:
    data_dir = tmp_path / "data"
    write_rows(data_dir, "test", judged_rows())
    options = RunOptions(task="realworldqa", model="qwen3-vl-2b-instruct", data_dir=data_dir,
                         output_dir=tmp_path / "out", show_progress=False, score_workers=1,
                         judge=judge_settings(server))
    return run(options, ScriptedEngine(unsure_model))


def test_judge_on_a_flaky_server_records_judge_errors_and_a_rescore_asks_only_for_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with flaky(judge_answer) as server:
        result = judged_run(tmp_path, server)
    failures = {question_of(p.split("Now the real one:")[-1]): f
                for p, f in check_server_saw_the_plan(server, JUDGE_ITEMS).items()}
    usage = result["metrics"]["judge"]
    planned_retries = sum(planned_fate(server, prompt)[0] - 1 for prompt in hits_by_prompt(server))
    assert (usage["judge_needed"], usage["judge_calls"], usage["judge_errors"], usage["judged"]) == (
        JUDGE_ITEMS, JUDGE_ITEMS, len(failures), JUDGE_ITEMS - len(failures))
    assert usage["retries"] == planned_retries == server.requests() - JUDGE_ITEMS
    assert usage["prompt_tokens"] == (JUDGE_ITEMS - len(failures)) * PROMPT_TOKENS
    run_dir = Path(result["run_dir"])
    for record in read_jsonl(run_dir / "scores.jsonl"):
        index, detail = question_of(record["prediction"]), record["detail"]
        if index in failures:  # the rule's 0 stays, marked as a judge error, not as judged
            error = detail["judge_error"]
            assert error.startswith("judge call: ") and ERROR_TEXT[failures[index]] in error, error
            assert f"({MAX_RETRIES + 1} attempts)" in error and "judged" not in detail
            assert record["score"] == 0
        else:
            assert detail["judged"] is True and record["score"] == float(index % 2 == 0), record

    with flaky(judge_answer, rates=None) as healthy:  # `vlmeval score` once the judge is well again
        monkeypatch.setattr(cli.console, "width", 200)
        result_cli = CliRunner().invoke(cli.app, ["score", str(run_dir), "--judge-base-url", healthy.base_url,
                                                  "--score-workers", "1", "--no-progress"])
    assert result_cli.exit_code == 0, result_cli.output
    assert sorted(question_of(hit.prompt.split("Now the real one:")[-1]) for hit in healthy.hits) == sorted(
        failures)
    assert (f"{JUDGE_ITEMS} items, {JUDGE_ITEMS} judged, 0 errors; {len(failures)} calls, "
            f"{JUDGE_ITEMS - len(failures)} cached") in result_cli.output
    scores = {question_of(r["prediction"]): r["score"] for r in read_jsonl(run_dir / "scores.jsonl")}
    assert scores == {index: float(index % 2 == 0) for index in range(JUDGE_ITEMS)}


# ---- a body that is no chat completion --------------------------------------------------------------


class ProxyPageThenAnswer:
    """A 200 carrying an HTML page (a proxy in the way), then, on the next try, a real answer."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, request: WerkzeugRequest) -> WerkzeugResponse:
        self.requests += 1
        if self.requests == 1:
            return WerkzeugResponse("<html>502 bad gateway</html>", content_type="text/html")
        return WerkzeugResponse(json.dumps(completion_body("B")), content_type="application/json")


def test_a_page_that_is_no_chat_completion_is_retried_by_engine_and_judge(httpserver: HTTPServer) -> None:
    for ask in (ask_engine, ask_judge):
        handler = ProxyPageThenAnswer()
        httpserver.clear()
        httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)
        assert ask(httpserver.url_for("/v1")) == ("B", None) and handler.requests == 2
        httpserver.clear()
        httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_data(
            "<html>down</html>", content_type="text/html")
        text, error = ask(httpserver.url_for("/v1"))
        assert text == "" and error is not None and "not a chat completion: '<html>down</html>'" in error


def ask_engine(base_url: str) -> tuple[str, str | None]:
    engine = OpenAIServerEngine("m", base_url, max_retries=1, timeout_s=TIMEOUT_S * 5, backoff_s=0.01)
    request = Request("q", (Message("user", (TextPart("which?"),)),), Sampling(max_tokens=4))
    (response,) = engine.generate([request])
    return response.text, response.error


def ask_judge(base_url: str) -> tuple[str, str | None]:
    replies: list[JudgeReply] = []
    JudgeClient("m", base_url, None, 4, max_retries=1, backoff_s=0.01, timeout_s=TIMEOUT_S * 5).ask_all(
        [JudgeCall("k", "which?")], replies.append)
    return replies[0].text, replies[0].error
