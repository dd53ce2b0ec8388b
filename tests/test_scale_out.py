"""Scale-out plumbing: several tasks through one engine, suites, parallelism from presets and flags,
several endpoints in `--model`, and the engine named on every stored answer."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from test_cli import invoke
from test_runner import perfect, toy_sample

from vlmeval.engines.factory import ParallelOptions, with_parallelism
from vlmeval.engines.scripted import ScriptedEngine
from vlmeval.models.spec import resolve_model
from vlmeval.reference import CANDIDATE_DIRS
from vlmeval.registry import all_tasks, register_task
from vlmeval.scoring.exact import exact_match
from vlmeval.suites import SuiteError, load_suite, suite_files
from vlmeval.task import DataSource, Task
from vlmeval.types import Request, Response

register_task(Task(
    name="toy-mathvision-b", description="a second fixture task on the same rows", default_split="test",
    template="mathvision", to_sample=toy_sample, score=exact_match,
    source=DataSource("org/toy-b", "0" * 40, {"test": 12}, image_fields=("decoded_image",)),
))


BOTH = "toy-mathvision,toy-mathvision-b"


class CountingEngine(ScriptedEngine):
    """A scripted engine that also records each `generate` call's size."""

    built = 0

    def __init__(self) -> None:
        super().__init__(perfect)
        CountingEngine.built += 1
        self.generate_calls: list[int] = []

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        self.generate_calls.append(len(requests))
        return super().generate(requests)


def test_several_tasks_share_one_engine_and_write_one_run_each(
        mathvision_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engines: list[CountingEngine] = []

    def build(*args: Any) -> CountingEngine:
        engines.append(CountingEngine())
        return engines[-1]

    monkeypatch.setattr("vlmeval.runner.build_engine", build)
    out = tmp_path / "results"
    copies = tmp_path / "copies"  # one folder of local copies: by task name, or by hub id
    (copies / "org").mkdir(parents=True)
    (copies / "toy-mathvision").symlink_to(mathvision_dir)
    (copies / "org" / "toy-b").symlink_to(mathvision_dir)
    code, output = invoke("run", "--task", BOTH, "--model", "qwen3-vl-2b-instruct",
                          "--data-dir", copies, "--output-dir", out, "--no-progress",
                          "--score-workers", "1")
    assert code == 0, output
    assert len(engines) == 1 and engines[0].generate_calls == [24]
    runs = sorted(path for path in out.iterdir() if path.is_dir())
    assert sorted(run.name.split("-test-")[0] for run in runs) == ["toy-mathvision", "toy-mathvision-b"]
    for run in runs:
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["engine"]["engine"] == "scripted" and manifest["engines_used"] == {"scripted": 12}
        records = [json.loads(line) for line in (run / "responses.jsonl").read_text().splitlines()]
        assert sorted(int(r["id"]) for r in records) == list(range(1, 13))  # ids untagged again
        assert {r["engine"] for r in records} == {"scripted"}
        assert json.loads((run / "metrics.json").read_text())["overall"]["mean"] == 1.0
        assert manifest["data_dir"] == str(mathvision_dir.resolve())  # found through copies/<task or hub id>
    code, output = invoke("run", "--task", BOTH, "--model", "qwen3-vl-2b-instruct",
                          "--data-dir", copies, "--output-dir", out, "--no-progress")
    assert code == 0 and engines[-1].generate_calls == []  # everything already answered


def test_a_multi_task_run_needs_one_model(mathvision_dir: Path, tmp_path: Path) -> None:
    from vlmeval.runner import RunError, RunOptions, run_many

    first = RunOptions(task="toy-mathvision", model="qwen3-vl-2b-instruct", data_dir=mathvision_dir)
    second = RunOptions(task="toy-mathvision-b", model="qwen3-vl-4b-instruct", data_dir=mathvision_dir)
    with pytest.raises(RunError, match="one model"):
        run_many([first, second], ScriptedEngine(perfect))
    replay = tmp_path / "answers.jsonl"
    replay.write_text('{"id": "1", "response": "2"}\n')
    both = [RunOptions(task=task, model=f"replay:{replay}", data_dir=mathvision_dir)
            for task in BOTH.split(",")]
    with pytest.raises(RunError, match="answers one task"):
        run_many(both)


def reference_tasks(source: str) -> set[tuple[str, str | None]]:
    directory = next(d for d in CANDIDATE_DIRS if d.is_dir())
    with (directory / f"{source}.csv").open(encoding="utf-8") as handle:
        return {(row["task"], row["split"] or None) for row in csv.DictReader(handle) if row["task"]}


@pytest.mark.parametrize("name", ["qwen3-vl-report", "qwen2-vl-report"])
def test_report_suites_list_every_task_their_report_scores(name: str) -> None:
    suite = load_suite(name)
    assert suite.reference is not None
    assert {(entry.task, entry.split) for entry in suite.entries} == reference_tasks(suite.reference)
    tasks = all_tasks()
    for entry in suite.entries:
        assert entry.split is None or entry.split in tasks[entry.task].source.splits, entry


def test_a_suite_expands_into_one_run_per_entry_with_its_split(tmp_path: Path) -> None:
    from vlmeval.commands.run import task_runs
    from vlmeval.runner import RunOptions

    runs = task_runs(RunOptions(task="", model="m", task_options={"k": "v"}), None, "qwen2-vl-report")
    by_task = [(run.task, run.split) for run in runs]
    assert ("refcoco", "testA") in by_task and ("mmbench-en", "test") in by_task
    assert len(runs) == len(load_suite("qwen2-vl-report").entries)
    assert all(run.task_options == {"k": "v"} for run in runs)
    own = tmp_path / "mine.toml"
    own.write_text('description = "two"\ntasks = [{ task = "mmmu", options = { fallback = "judge" } }, '
                   '{ task = "ai2d", split = "test" }]\n')
    suite = load_suite(str(own))
    assert [(e.task, e.split, e.options) for e in suite.entries] == [
        ("mmmu", None, {"fallback": "judge"}), ("ai2d", "test", {})]
    own.write_text('tasks = [{ name = "mmmu" }]\n')
    with pytest.raises(SuiteError, match="needs a task name"):
        load_suite(str(own))
    assert set(suite_files()) >= {"qwen3-vl-report", "qwen2-vl-report"}


def test_presets_state_what_their_size_needs() -> None:
    big = resolve_model("qwen3-vl-235b-a22b-instruct")
    assert big.parallelism() == {"tensor_parallel_size": 8, "enable_expert_parallel": True}
    assert resolve_model("qwen3-vl-32b-thinking").parallelism() == {"tensor_parallel_size": 2}
    assert resolve_model("qwen2.5-vl-72b-instruct").parallelism() == {"tensor_parallel_size": 4}
    assert resolve_model("qwen3-vl-8b-instruct").parallelism() == {}
    assert resolve_model("qwen3-vl-8b-instruct").engine_args["max_model_len"] == 262144


def test_parallelism_overrides_reach_the_engine_but_not_the_fingerprint() -> None:
    preset = resolve_model("qwen3-vl-235b-a22b-thinking")
    spread = with_parallelism(preset, ParallelOptions(tensor_parallel_size=4, pipeline_parallel_size=2,
                                                      distributed_executor_backend="ray"))
    assert spread.parallelism() == {"tensor_parallel_size": 4, "pipeline_parallel_size": 2,
                                    "enable_expert_parallel": True, "distributed_executor_backend": "ray"}
    assert spread.settings() == preset.settings()  # a run started on 8 GPUs resumes on 4
    longer = with_parallelism(preset, ParallelOptions(max_model_len=65536))
    assert longer.settings() != preset.settings()  # the context length can change answers


def test_several_endpoints_are_parsed_from_the_model_argument() -> None:
    spec = resolve_model("openai:http://a:8000/v1, http://b:8000/v1#qwen3-vl-8b-instruct")
    assert spec.kind == "openai" and spec.base_urls == ("http://a:8000/v1", "http://b:8000/v1")
    assert spec.sampling is not None and spec.sampling.presence_penalty == 1.5  # the preset's settings
    assert spec.name == "qwen3-vl-8b-instruct@openai"
    served = resolve_model("openai:http://a/v1#my-served-name", {"max_tokens": 64})
    assert served.model_id == "my-served-name" and served.base_urls == ("http://a/v1",)
    assert resolve_model("openai:qwen3-vl-8b-instruct").base_urls == ()
    assert resolve_model("qwen3-vl-8b-instruct", local_engine="transformers").name == (
        "qwen3-vl-8b-instruct@transformers")


def test_data_parallel_engines_get_the_preset_s_device_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    from vlmeval.engines import factory
    from vlmeval.engines.data_parallel import DataParallelEngine
    from vlmeval.runner import engine_label

    monkeypatch.setattr(factory.importlib.util, "find_spec", lambda name: object())  # "vllm is installed"
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    spec = resolve_model("qwen3-vl-32b-instruct")
    engine = factory.build_engine(spec, factory.ServerOptions(), ParallelOptions(data_parallel=4))
    assert isinstance(engine, DataParallelEngine)
    described = engine.describe()
    assert described["device_slices"] == ["0,1", "2,3", "4,5", "6,7"]  # 4 workers x TP 2
    assert described["worker"]["engine"] == "vllm-offline"
    assert described["worker"]["engine_args"]["tensor_parallel_size"] == 2
    assert engine_label(engine) == "data-parallel(vllm-offline)"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2")
    with pytest.raises(factory.EngineUnavailableError, match="needs 8 devices"):
        factory.build_engine(spec, factory.ServerOptions(), ParallelOptions(data_parallel=4))


def test_a_multi_task_run_names_every_task_that_cannot_start(mathvision_dir: Path, tmp_path: Path) -> None:
    code, output = invoke("run", "--task", f"{BOTH},no-such-task", "--model", "qwen3-vl-2b-instruct",
                          "--data-dir", tmp_path / "missing", "--output-dir", tmp_path / "out")
    assert code == 2 and "Traceback" not in output
    assert "3 of 3 tasks cannot start" in output
    for task in ("toy-mathvision:", "toy-mathvision-b:", "no-such-task: unknown task"):
        assert task in output


def test_the_automatic_engine_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    from vlmeval.engines import factory

    monkeypatch.setattr(factory.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(factory, "_gpu_present", lambda: True)
    assert factory.choose_local_engine("auto") == ("vllm", "auto: vLLM is installed and a GPU is present")
    monkeypatch.setattr(factory, "_gpu_present", lambda: False)
    assert factory.choose_local_engine("auto") == ("transformers", "auto: no NVIDIA GPU found")
    assert factory.choose_local_engine("vllm") == ("vllm", "chosen with --engine")
    monkeypatch.undo()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert factory._gpu_present() is False  # every device hidden
