"""End to end through the real CLI and the OpenAI-compatible engine, against a local fake server."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fake_server import FixtureModel
from pytest_httpserver import HTTPServer

from vlmeval.templates import render_template

PRESET = "qwen3-vl-2b-instruct"


def cli(*args: object) -> list[str]:
    # Run from outside the checkout: `python -m` puts the working directory first on sys.path, where the
    # source folder vlmeval/ (without the tasks/ mapping) would shadow the installed package.
    return [sys.executable, "-m", "vlmeval", *map(str, args)]


NEUTRAL_CWD = Path(__file__).resolve().parents[1].parent


def run_args(server: HTTPServer, data_dir: Path, out: Path) -> list[str]:
    return cli("run", "--task", "mathvision", "--model", f"openai:{PRESET}",
               "--base-url", server.url_for("/v1"), "--data-dir", data_dir, "--output-dir", out,
               "--concurrency", "1", "--no-progress")


def test_requests_carry_prompt_image_and_every_sampling_field(
    httpserver: HTTPServer, mathvision_dir: Path, tmp_path: Path
) -> None:
    model = FixtureModel()
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(model)
    result = subprocess.run(run_args(httpserver, mathvision_dir, tmp_path / "out"), capture_output=True,
                            text=True, timeout=300, cwd=NEUTRAL_CWD)
    assert result.returncode == 0, result.stderr
    assert len(model.bodies) == 12
    body = next(b for b in model.bodies if "What is 3 + 3?" in json.dumps(b))
    image, text = body["messages"][0]["content"]
    assert text["text"] == render_template("mathvision", {
        "question": "What is 3 + 3?\n<image1>", "options": ["4", "5", "6", "7", "8"]})
    assert image["image_url"]["url"].startswith("data:image/png;base64,")
    assert base64.b64decode(image["image_url"]["url"].split(",", 1)[1]).startswith(b"\x89PNG")
    assert body["model"] == "Qwen/Qwen3-VL-2B-Instruct"
    expected = {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "presence_penalty": 1.5,
                "repetition_penalty": 1.0, "seed": 3407, "max_tokens": 32768}
    assert {k: body[k] for k in expected} == expected
    assert body["mm_processor_kwargs"] == {"min_pixels": 768 * 28 * 28, "max_pixels": 5120 * 28 * 28}
    (run_dir,) = (tmp_path / "out").iterdir()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["overall"]["n"] == 12 and metrics["overall"]["mean"] == 10 / 12  # ids 5 and 10 wrong


def answered_ids(run_dir: Path) -> set[str]:
    ids = set()
    for line in (run_dir / "responses.jsonl").read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # the line a kill tore
            ids.add(json.loads(line)["id"])
    return ids


def test_sigkill_midway_then_rerun_asks_only_for_missing_items(
    httpserver: HTTPServer, mathvision_dir: Path, tmp_path: Path
) -> None:
    model = FixtureModel(delay_s=0.15)
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(model)
    out = tmp_path / "killed"
    process = subprocess.Popen(run_args(httpserver, mathvision_dir, out), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True, cwd=NEUTRAL_CWD)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = list(out.glob("*/responses.jsonl")) if out.exists() else []
        if runs and len(answered_ids(runs[0].parent)) >= 4:
            break
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    (run_dir,) = out.iterdir()
    kept = answered_ids(run_dir)
    assert 4 <= len(kept) < 12 and not (run_dir / "metrics.json").exists()

    calls_before = len(model.bodies)
    rerun = subprocess.run(run_args(httpserver, mathvision_dir, out), capture_output=True, text=True,
                           timeout=300, cwd=NEUTRAL_CWD)
    assert rerun.returncode == 0, rerun.stderr
    asked_again = model.bodies[calls_before:]
    assert len(asked_again) == 12 - len(kept)

    clean = subprocess.run(run_args(httpserver, mathvision_dir, tmp_path / "clean"), capture_output=True,
                           text=True, timeout=300, cwd=NEUTRAL_CWD)
    assert clean.returncode == 0, clean.stderr
    (clean_dir,) = (tmp_path / "clean").iterdir()

    def verdicts(directory: Path) -> dict[str, float]:
        return {r["id"]: r["score"] for r in map(json.loads, (directory / "scores.jsonl").open())}

    assert verdicts(run_dir) == verdicts(clean_dir)
    resumed = json.loads((run_dir / "metrics.json").read_text())["overall"]
    uninterrupted = json.loads((clean_dir / "metrics.json").read_text())["overall"]
    assert resumed == uninterrupted
