"""The transformers engine on tiny random Qwen2-VL / Qwen3-VL models built here, on CPU: images, videos,
sampling reaching `generate`, per-item failures, and a run through the runner and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="the transformers engine needs torch ([transformers] extra)")
pytest.importorskip("transformers", reason="the transformers engine needs transformers (same extra)")

from conftest import make_png  # noqa: E402
from test_video_pipeline import clip_sample, says_yes  # noqa: E402
from tiny_qwen import build_tiny_model  # noqa: E402
from typer.testing import CliRunner  # noqa: E402
from video_fixtures import read_index, write_clip_folder  # noqa: E402

from vlmeval.cli import app  # noqa: E402
from vlmeval.engines.hf_loading import load_model  # noqa: E402
from vlmeval.engines.hf_sampling import vllm_penalties  # noqa: E402
from vlmeval.engines.transformers_local import TransformersEngine  # noqa: E402
from vlmeval.registry import register_task  # noqa: E402
from vlmeval.runner import RunOptions, run  # noqa: E402
from vlmeval.task import DataSource, Task  # noqa: E402
from vlmeval.types import (  # noqa: E402
    ImagePart,
    ImageRef,
    MediaLimits,
    Message,
    Request,
    Sampling,
    TextPart,
)
from vlmeval.video.types import FramePolicy  # noqa: E402

PRESETS = {"qwen2-vl": "qwen2-vl-7b-instruct", "qwen3-vl": "qwen3-vl-2b-instruct"}
MERGE = 4  # spatial merge 2 x 2


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny")
    return {kind: build_tiny_model(kind, root / kind) for kind in PRESETS}


class Spy:
    """A loader that loads for real and records every processor call and `generate` call."""

    def __init__(self) -> None:
        self.generate_calls: list[dict[str, Any]] = []
        self.processor_calls: list[dict[str, Any]] = []
        self.processor: Any = None

    def __call__(self, model: str, **options: Any) -> tuple[Any, Any]:
        loaded, processor = load_model(model, **options)
        real_generate, calls = loaded.generate, self.generate_calls

        def generate(**kwargs: Any) -> Any:
            calls.append(kwargs)
            return real_generate(**kwargs)

        loaded.generate = generate
        real_call, seen = processor.__call__, self.processor_calls

        class Recording(type(processor)):  # type: ignore[misc]
            def __call__(self, **kwargs: Any) -> Any:
                seen.append(kwargs)
                return real_call(**kwargs)

        processor.__class__ = Recording
        self.processor = processor
        return loaded, processor


def image_request(sample_id: str, data: bytes, sampling: Sampling | None = None) -> Request:
    message = Message("user", (ImagePart(ImageRef(data=data)), TextPart(f"question {sample_id}?")))
    return Request(sample_id, (message,), sampling or Sampling(max_tokens=4, temperature=0),
                   MediaLimits(min_pixels=4 * 28 * 28, max_pixels=1280 * 28 * 28))


@pytest.mark.parametrize("kind", sorted(PRESETS))
def test_mathvision_run_stores_and_scores_answers(kind: str, tiny_models: dict[str, Path],
                                                  mathvision_dir: Path, tmp_path: Path) -> None:
    spy = Spy()
    engine = TransformersEngine(str(tiny_models[kind]), device="cpu", batch_size=4, loader=spy)
    result = run(RunOptions(task="mathvision", model=PRESETS[kind], data_dir=mathvision_dir, limit=6,
                            output_dir=tmp_path / "out", sampling_overrides={"max_tokens": 6},
                            show_progress=False, score_workers=1), engine)
    run_dir = Path(result["run_dir"])
    answers = [json.loads(line) for line in (run_dir / "responses.jsonl").read_text().splitlines()]
    assert len(answers) == 6 and not any(a.get("error") for a in answers)
    assert json.loads((run_dir / "metrics.json").read_text())["overall"]["n"] == 6
    assert json.loads((run_dir / "manifest.json").read_text())["engine"]["engine"] == "transformers"
    image_token = spy.processor.image_token_id
    for call, inputs in zip(spy.generate_calls, spy.processor_calls, strict=True):
        grids = call["image_grid_thw"]
        assert len(grids) == len(inputs["images"])
        assert int((call["input_ids"] == image_token).sum()) == int(grids.prod(dim=1).sum()) // MERGE
        assert call["generation_config"].max_new_tokens == 6


register_task(Task(
    name="toy-video-hf", description="", default_split="test", template="mathvision", to_sample=clip_sample,
    score=says_yes, frame_policy=FramePolicy(fps=2.0, max_frames=8, max_tokens_per_frame=64),
    source=DataSource("org/video", "0" * 40, {"test": 2}, image_fields=(), video_fields=("video",))))


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    return write_clip_folder(tmp_path / "clips", (30, 45))


def expected_video_tokens(kind: str, processor: Any, frames: Any) -> tuple[int, int, int]:
    """grid (t, h, w) by transformers' own size maths for the model, from the frames' shape."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as qwen2_resize
    from transformers.models.qwen3_vl.video_processing_qwen3_vl import smart_resize as qwen3_resize

    video = processor.video_processor
    count, height, width = frames.shape[0], frames.shape[1], frames.shape[2]
    factor = video.patch_size * video.merge_size
    low, high = video.size["shortest_edge"], video.size["longest_edge"]
    if kind == "qwen3-vl":
        resized = qwen3_resize(count, height, width, temporal_factor=2, factor=factor, min_pixels=low,
                               max_pixels=high)
    else:
        resized = qwen2_resize(height, width, factor=factor, min_pixels=low, max_pixels=high)
    return -(-count // 2), resized[0] // video.patch_size, resized[1] // video.patch_size


@pytest.mark.parametrize("kind", sorted(PRESETS))
def test_video_prompt_has_the_processors_placeholders(kind: str, tiny_models: dict[str, Path], clips: Path,
                                                      tmp_path: Path) -> None:
    spy = Spy()
    engine = TransformersEngine(str(tiny_models[kind]), device="cpu", loader=spy)
    result = run(RunOptions(task="toy-video-hf", model=PRESETS[kind], data_dir=clips,
                            output_dir=tmp_path / "out", cache_dir=tmp_path / "cache",
                            sampling_overrides={"max_tokens": 4},
                            show_progress=False, score_workers=1), engine)
    assert result["metrics"]["overall"]["errors"] == 0 and result["metrics"]["overall"]["n"] == 2
    processor, tokenizer = spy.processor, spy.processor.tokenizer
    for call, inputs in zip(spy.generate_calls, spy.processor_calls, strict=True):
        assert inputs["videos_kwargs"]["do_sample_frames"] is False
        for row, (frames, grid) in enumerate(zip(inputs["videos"], call["video_grid_thw"], strict=True)):
            assert tuple(int(g) for g in grid) == expected_video_tokens(kind, processor, frames)
            ids = call["input_ids"][row]
            assert int((ids == processor.video_token_id).sum()) == int(grid.prod()) // MERGE
            if kind == "qwen3-vl":
                indices = [read_index(frame) for frame in frames]
                pairs = [indices[i:i + 2] for i in range(0, len(indices), 2)]
                expected = [f"{(p[0] + p[-1]) / 2 / 10:.1f}" for p in pairs]
                text = tokenizer.decode(ids, skip_special_tokens=False)
                assert re.findall(r"<([0-9.]+) seconds>", text) == expected


def test_sampling_reaches_generate_and_model_defaults_do_not(tiny_models: dict[str, Path]) -> None:
    spy = Spy()
    engine = TransformersEngine(str(tiny_models["qwen3-vl"]), device="cpu", loader=spy)
    sampling = Sampling(max_tokens=5, temperature=0.7, top_p=0.8, top_k=None, presence_penalty=1.5,
                        repetition_penalty=1.05, seed=7)
    first = list(engine.generate([image_request("a", make_png(1), sampling), image_request("b", make_png(2),
                                                                                           sampling)]))
    config = spy.generate_calls[0]["generation_config"]
    assert (config.do_sample, config.temperature, config.top_p, config.max_new_tokens) == (True, 0.7, 0.8, 5)
    assert config.top_k == 0  # neither transformers' 50 nor the model file's 1
    assert config.repetition_penalty == 1.0 and spy.generate_calls[0]["input_ids"].shape[0] == 2
    (penalties,) = spy.generate_calls[0]["logits_processor"]
    assert (penalties.repetition, penalties.presence) == (1.05, 1.5)
    assert engine._model.generation_config.temperature in (None, 1.0)
    again = list(TransformersEngine(str(tiny_models["qwen3-vl"]), device="cpu", loader=Spy()).generate(
        [image_request("a", make_png(1), sampling), image_request("b", make_png(2), sampling)]))
    assert [r.text for r in again] == [r.text for r in first]  # the seed fixes the batch's draw
    greedy = Spy()
    list(TransformersEngine(str(tiny_models["qwen3-vl"]), device="cpu", loader=greedy).generate(
        [image_request("g", make_png(3))]))
    assert greedy.generate_calls[0]["generation_config"].do_sample is False
    assert greedy.generate_calls[0]["logits_processor"] == []
    for response in first:
        assert response.usage.prompt_tokens and response.finish_reason in ("stop", "length")
        assert 1 <= (response.usage.completion_tokens or 0) <= 5


def test_penalties_follow_vllm() -> None:
    # row 0: one pad then prompt [5, 6]; row 1: prompt [7, 5, 6]; both then generated [8]
    sampling = Sampling(max_tokens=1, repetition_penalty=2.0, presence_penalty=0.5)
    penalties = vllm_penalties(sampling, [1, 0], 3)
    input_ids = torch.tensor([[0, 5, 6, 8], [7, 5, 6, 8]])
    scores = torch.full((2, 10), 4.0)
    scores[:, 6] = -4.0
    out = penalties(input_ids, scores)
    assert out[0, 0] == 4.0 and out[1, 0] == 4.0  # the pad token of row 0 is not "seen"
    assert out[0, 5] == 2.0 and out[0, 6] == -8.0 and out[1, 7] == 2.0
    assert out[0, 8] == 2.0 - 0.5  # generated: repetition and presence
    assert out[0, 9] == 4.0


def test_bad_items_fail_alone(tiny_models: dict[str, Path]) -> None:
    engine = TransformersEngine(str(tiny_models["qwen2-vl"]), device="cpu", batch_size=4)
    extreme = make_png(4, size=(2000, 8))  # aspect ratio past 200: the processor rejects the batch
    requests = [image_request("ok1", make_png(1)), image_request("broken", b"not an image"),
                image_request("extreme", extreme), image_request("ok2", make_png(2))]
    responses = {r.sample_id: r for r in engine.generate(requests)}
    assert set(responses) == {"ok1", "broken", "extreme", "ok2"}
    assert responses["broken"].error and responses["extreme"].error
    assert "aspect ratio" in (responses["extreme"].error or "")
    assert responses["ok1"].ok and responses["ok2"].ok


def test_cli_runs_a_tiny_model_with_the_transformers_engine(tiny_models: dict[str, Path],
                                                            mathvision_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "run", "--task", "mathvision", "--model", str(tiny_models["qwen2-vl"]), "--engine", "transformers",
        "--max-tokens", "8", "--temperature", "0.7", "--top-p", "0.8", "--limit", "3",
        "--data-dir", str(mathvision_dir), "--output-dir", str(tmp_path / "out"), "--no-progress",
        "--score-workers", "1"])
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "out").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["engine"]["engine"] == "transformers" and manifest["engine"]["device"] == "cpu"
    assert len((run_dir / "responses.jsonl").read_text().splitlines()) == 3
