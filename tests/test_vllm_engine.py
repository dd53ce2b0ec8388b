"""VLLMOfflineEngine with a fake LLM and SamplingParams: no vLLM, no GPU."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vlmeval.engines.base import Engine
from vlmeval.engines.vllm_offline import UNSET_SAMPLING_VALUES, VLLMApi, VLLMOfflineEngine
from vlmeval.types import ImagePart, ImageRef, MediaLimits, Message, Request, Sampling, TextPart

REPO_ROOT = Path(__file__).resolve().parents[1]
SMALL = MediaLimits(min_pixels=3136, max_pixels=50176)
LARGE = MediaLimits(max_pixels=1003520)


class FakeSamplingParams:
    def __init__(self, **fields: Any) -> None:
        self.fields = fields


@dataclass
class FakeCompletion:
    text: str
    finish_reason: str
    token_ids: list[int]


@dataclass
class FakeOutput:
    prompt_token_ids: list[int]
    outputs: list[FakeCompletion]


@dataclass
class FakeLLM:
    """Answers each conversation with its last text part; rejects a whole call containing 'TOO LONG'."""

    init_args: dict[str, Any]
    calls: list[dict[str, Any]] = field(default_factory=list)

    def chat(self, messages: list[Any], sampling_params: Any = None, **options: Any) -> list[FakeOutput]:
        self.calls.append({"messages": messages, "sampling_params": sampling_params, **options})
        texts = [[p["text"] for p in conv[-1]["content"] if p["type"] == "text"][-1] for conv in messages]
        if "TOO LONG" in texts:
            raise ValueError("prompt is longer than max_model_len")
        return [FakeOutput([0] * 7, [FakeCompletion(f"re: {text}", "stop", [1, 2])]) for text in texts]


class FakeVLLM:
    """The seam: one factory handing the engine both fake classes, remembering the LLMs it built."""

    def __init__(self) -> None:
        self.llms: list[FakeLLM] = []

    def __call__(self) -> VLLMApi:
        return VLLMApi(llm_class=self._build, sampling_params_class=FakeSamplingParams, version="0.0-fake")

    def _build(self, **init_args: Any) -> FakeLLM:
        self.llms.append(FakeLLM(init_args))
        return self.llms[-1]


def png(mode: str = "RGB", color: Any = "blue") -> ImageRef:
    buffer = io.BytesIO()
    Image.new(mode, (5, 4), color).save(buffer, format="PNG")
    return ImageRef(data=buffer.getvalue())


def make_request(
    sample_id: str,
    *parts: TextPart | ImagePart,
    sampling: Sampling | None = None,
    limits: MediaLimits = SMALL,
) -> Request:
    content = parts or (TextPart(sample_id),)
    return Request(sample_id, (Message("user", content),), sampling or Sampling(max_tokens=512), limits)


@pytest.fixture
def fake() -> FakeVLLM:
    return FakeVLLM()


def test_builds_the_llm_once_with_vllm_generation_config(fake: FakeVLLM) -> None:
    engine = VLLMOfflineEngine("Qwen/Qwen3-VL-8B", "abc123", {"tensor_parallel_size": 2}, llm_factory=fake)
    assert fake.llms == []  # nothing loads until the first generate

    list(engine.generate([make_request("a")]))
    list(engine.generate([make_request("b")]))

    assert len(fake.llms) == 1
    assert fake.llms[0].init_args == {
        "model": "Qwen/Qwen3-VL-8B",
        "revision": "abc123",
        "generation_config": "vllm",
        "tensor_parallel_size": 2,
    }


def test_one_chat_call_per_media_limits_group(fake: FakeVLLM) -> None:
    limits = [SMALL, LARGE, SMALL, MediaLimits(), LARGE, SMALL]
    requests = [make_request(f"q{i}", limits=lim) for i, lim in enumerate(limits)]

    responses = list(VLLMOfflineEngine("m", llm_factory=fake).generate(requests))

    calls = fake.llms[0].calls
    assert len(calls) == 3
    by_kwargs = {str(call["mm_processor_kwargs"]): call for call in calls}
    assert len(by_kwargs[str(SMALL.as_dict())]["messages"]) == 3
    assert len(by_kwargs[str(LARGE.as_dict())]["messages"]) == 2
    assert len(by_kwargs["None"]["messages"]) == 1  # no limits: the engine-wide settings apply
    assert all(call["use_tqdm"] is False for call in calls)
    assert {r.sample_id: r.text for r in responses} == {f"q{i}": f"re: q{i}" for i in range(6)}


def test_every_sampling_field_is_set_explicitly(fake: FakeVLLM) -> None:
    full = Sampling(
        max_tokens=2048,
        temperature=0.7,
        top_p=0.8,
        top_k=20,
        presence_penalty=1.5,
        repetition_penalty=1.05,
        seed=7,
    )
    sparse = Sampling(max_tokens=1024, temperature=0.0)
    requests = [make_request("full", sampling=full), make_request("sparse", sampling=sparse)]

    list(VLLMOfflineEngine("m", llm_factory=fake).generate(requests))

    [call] = fake.llms[0].calls
    sent = [params.fields for params in call["sampling_params"]]
    assert sent[0] == full.as_dict()
    assert sent[1] == {**UNSET_SAMPLING_VALUES, "max_tokens": 1024, "temperature": 0.0}
    assert set(sent[1]) == set(full.as_dict())  # nothing left to vLLM's or the model's defaults


def test_outputs_are_mapped_to_their_ids(fake: FakeVLLM) -> None:
    requests = [make_request(f"q{i}") for i in range(4)]

    responses = list(VLLMOfflineEngine("m", llm_factory=fake).generate(requests))

    assert [r.sample_id for r in responses] == ["q0", "q1", "q2", "q3"]
    first = responses[0]
    assert (first.text, first.finish_reason, first.error) == ("re: q0", "stop", None)
    assert (first.usage.prompt_tokens, first.usage.completion_tokens) == (7, 2)


def test_images_become_rgb_pil_parts_in_order(fake: FakeVLLM) -> None:
    request = make_request(
        "q", TextPart("first"), ImagePart(png("RGBA", (0, 0, 0, 0))), TextPart("then"), ImagePart(png("L", 9))
    )

    list(VLLMOfflineEngine("m", llm_factory=fake).generate([request]))

    [conversation] = fake.llms[0].calls[0]["messages"]
    parts = conversation[0]["content"]
    assert [p["type"] for p in parts] == ["text", "image_pil", "text", "image_pil"]
    assert [parts[0]["text"], parts[2]["text"]] == ["first", "then"]
    transparent, grey = parts[1]["image_pil"], parts[3]["image_pil"]
    assert transparent.mode == grey.mode == "RGB"
    assert transparent.getpixel((0, 0)) == (255, 255, 255)  # alpha onto white, as vLLM does for URLs
    assert grey.getpixel((0, 0)) == (9, 9, 9)


def test_a_bad_image_is_an_error_and_the_batch_goes_on(fake: FakeVLLM, tmp_path: Path) -> None:
    requests = [
        make_request("good1"),
        make_request("missing", TextPart("x"), ImagePart(ImageRef(path=str(tmp_path / "gone.png")))),
        make_request("corrupt", TextPart("x"), ImagePart(ImageRef(data=png().read_bytes()[:30]))),
        make_request("good2", TextPart("look"), ImagePart(png())),
    ]

    responses = {r.sample_id: r for r in VLLMOfflineEngine("m", llm_factory=fake).generate(requests)}

    assert responses["good1"].ok and responses["good2"].ok
    assert not responses["missing"].ok and not responses["corrupt"].ok
    [call] = fake.llms[0].calls
    assert len(call["messages"]) == 2


def test_a_prompt_vllm_rejects_fails_alone(fake: FakeVLLM) -> None:
    requests = [make_request(f"q{i}") for i in range(7)] + [make_request("big", TextPart("TOO LONG"))]

    responses = {r.sample_id: r for r in VLLMOfflineEngine("m", llm_factory=fake).generate(requests)}

    assert len(responses) == 8
    assert responses["big"].error == "ValueError: prompt is longer than max_model_len"
    assert all(responses[f"q{i}"].ok for i in range(7))
    assert len(fake.llms[0].calls) <= 7  # bisection, not one call per request


def test_describe_records_args_defaults_and_version(fake: FakeVLLM) -> None:
    engine = VLLMOfflineEngine("m", "rev", {"max_model_len": 8192, "seed": 0}, llm_factory=fake)
    before = engine.describe()
    list(engine.generate([make_request("a")]))
    after = engine.describe()

    assert before["vllm_version"] is None and after["vllm_version"] == "0.0-fake"
    assert after["engine_args"] == {"generation_config": "vllm", "max_model_len": 8192, "seed": 0}
    assert (after["model"], after["revision"]) == ("m", "rev")
    assert after["unset_sampling_values"]["top_k"] == 0


def test_satisfies_the_engine_protocol(fake: FakeVLLM) -> None:
    engine: Engine = VLLMOfflineEngine("m", llm_factory=fake)
    assert engine.name == "vllm-offline"
    assert list(engine.generate([])) == [] and fake.llms == []


def test_engine_args_cannot_override_model_or_revision() -> None:
    with pytest.raises(ValueError, match="model"):
        VLLMOfflineEngine("m", engine_args={"model": "other"})


def test_importing_and_describing_never_imports_vllm(tmp_path: Path) -> None:
    trap = tmp_path / "vllm"
    trap.mkdir()
    (trap / "__init__.py").write_text("raise RuntimeError('vllm was imported')\n")
    script = textwrap.dedent(
        """
        import sys
        from vlmeval.engines.vllm_offline import VLLMOfflineEngine
        engine = VLLMOfflineEngine("m", engine_args={"max_model_len": 1024})
        engine.describe()
        assert "vllm" not in sys.modules, "vllm was imported"
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO_ROOT)])}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
