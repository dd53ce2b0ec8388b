"""Videos through the whole harness: sampled once by the runner, cached, and sent the same way to engines."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from video_fixtures import read_index, write_clip_folder, write_video

from vlmeval.engines.openai_server import chat_messages, request_body
from vlmeval.engines.scripted import ScriptedEngine
from vlmeval.engines.vllm_offline import VLLMApi, VLLMOfflineEngine
from vlmeval.registry import register_task
from vlmeval.runner import RunOptions, run
from vlmeval.task import DataSource, Task
from vlmeval.types import ItemScore, Message, Request, Sample, Sampling, TextPart, VideoPart, VideoRef
from vlmeval.video.cache import FrameCache
from vlmeval.video.frames import load_frames, prepare_video
from vlmeval.video.types import FramePolicy


def clip_sample(row: Mapping[str, Any]) -> Sample:
    return Sample(str(row["id"]), "yes", {"question": row["question"], "options": []}, (row["video"],), {})


def says_yes(answer: str, target: str, fields: Mapping[str, Any]) -> ItemScore:
    return ItemScore(float(answer == target))


register_task(Task(
    name="toy-video", description="", default_split="test", template="mathvision", to_sample=clip_sample,
    score=says_yes, frame_policy=FramePolicy(fps=2.0, max_frames=16, max_tokens_per_frame=64),
    source=DataSource("org/video", "0" * 40, {"test": 3}, image_fields=(), video_fields=("video",))))


@pytest.fixture
def clips(tmp_path: Path) -> Path:
    return write_clip_folder(tmp_path / "clips", (30, 45, 60))


def run_clips(folder: Path, out: Path, cache: Path, seen: list[Request] | None = None,
              model: str = "qwen3-vl-2b-instruct") -> dict[str, Any]:
    def script(request: Request) -> str:
        if seen is not None:
            seen.append(request)
        return "yes"

    return run(RunOptions(task="toy-video", model=model, data_dir=folder, output_dir=out, cache_dir=cache,
                          show_progress=False, score_workers=1), ScriptedEngine(script))


def test_runner_samples_once_and_a_rerun_decodes_nothing(clips: Path, tmp_path: Path) -> None:
    seen: list[Request] = []
    first = run_clips(clips, tmp_path / "a", tmp_path / "cache", seen)
    assert first["metrics"]["overall"]["mean"] == 1.0
    assert first["generation"]["video_decodes"] == 3 and first["generation"]["video_cache_hits"] == 0
    part = next(p for p in seen[0].messages[0].content if isinstance(p, VideoPart))
    assert part.plan is not None and part.info is not None and part.info.total_frames == 30
    frames = load_frames(part)
    assert frames.shape[0] == len(part.plan.indices) and frames.dtype == np.uint8
    assert [read_index(f) for f in frames] == list(part.plan.indices)
    manifest = json.loads((Path(first["run_dir"]) / "manifest.json").read_text())
    video = manifest["video"]
    assert video["decoder"]["decoder"] == "pyav" and video["policy"]["mode"] == "qwen3-vl"
    second = run_clips(clips, tmp_path / "b", tmp_path / "cache")
    assert second["generation"]["video_decodes"] == 0 and second["generation"]["video_cache_hits"] == 3


def test_model_family_sets_index_maths_and_frame_cap(clips: Path, tmp_path: Path) -> None:
    result = run_clips(clips, tmp_path / "out", tmp_path / "cache", model="qwen2-vl-7b-instruct")
    manifest = json.loads((Path(result["run_dir"]) / "manifest.json").read_text())
    policy = manifest["video"]["policy"]
    assert policy["mode"] == "qwen2-vl" and policy["image_factor"] == 28 and policy["max_frames"] == 16


def test_a_broken_video_fails_its_item_only(clips: Path, tmp_path: Path) -> None:
    (clips / "videos" / "1.mp4").write_bytes(b"not a video at all")
    result = run_clips(clips, tmp_path / "out", tmp_path / "cache")
    assert result["metrics"]["overall"]["errors"] == 1 and result["metrics"]["overall"]["mean"] == 2 / 3
    lines = (Path(result["run_dir"]) / "responses.jsonl").read_text().splitlines()
    errors = [json.loads(line) for line in lines if json.loads(line).get("error")]
    assert [e["id"] for e in errors] == ["1"] and "1.mp4" in errors[0]["error"]


def prepared_part(tmp_path: Path) -> VideoPart:
    path = write_video(tmp_path / "clip.mp4", 40, fps=20, size=(64, 48))
    policy = FramePolicy(fps=2.0, max_frames=8, max_tokens_per_frame=64)
    return prepare_video(VideoPart(VideoRef(str(path))), policy, FrameCache(tmp_path / "cache"))


def video_request(part: VideoPart) -> Request:
    message = Message("user", (part, TextPart("what happens?")))
    return Request("v1", (message,), Sampling(max_tokens=8))


def test_server_engine_sends_the_sampled_frames_with_their_times(tmp_path: Path) -> None:
    part = prepared_part(tmp_path)
    assert part.plan is not None
    (content,) = chat_messages(video_request(part).messages)
    url = content["content"][0]["video_url"]["url"]
    assert url.startswith("data:video/jpeg;base64,")
    jpegs = url.removeprefix("data:video/jpeg;base64,").split(",")
    decoded = [np.asarray(Image.open(io.BytesIO(base64.b64decode(j))).convert("RGB")) for j in jpegs]
    assert [read_index(frame) for frame in decoded] == list(part.plan.indices)
    extra = request_body(video_request(part))["extra_body"]
    assert extra["media_io_kwargs"]["video"]["frames_indices"] == list(part.plan.indices)
    assert extra["media_io_kwargs"]["video"]["fps"] == pytest.approx(20.0)
    assert extra["mm_processor_kwargs"]["do_sample_frames"] is False


class FakeTokenizer:
    def apply_chat_template(self, turns: list[dict[str, Any]], tokenize: bool,
                            add_generation_prompt: bool) -> str:
        parts = [p.get("text", f"<{p['type']}>") for turn in turns for p in turn["content"]]
        return "".join(parts) + ("<assistant>" if add_generation_prompt else "")


class FakeVideoLLM:
    def __init__(self, **kwargs: Any) -> None:
        self.prompts: list[dict[str, Any]] = []

    def get_tokenizer(self) -> FakeTokenizer:
        return FakeTokenizer()

    def generate(self, prompts: list[dict[str, Any]], sampling_params: Any = None, **_: Any) -> list[Any]:
        from test_vllm_engine import FakeCompletion, FakeOutput

        self.prompts.extend(prompts)
        return [FakeOutput([0], [FakeCompletion("seen", "stop", [1])]) for _ in prompts]


def test_offline_engine_passes_frames_and_metadata_not_a_file(tmp_path: Path) -> None:
    part = prepared_part(tmp_path)
    assert part.plan is not None
    built: list[FakeVideoLLM] = []

    def factory() -> VLLMApi:
        def make(**kwargs: Any) -> FakeVideoLLM:
            built.append(FakeVideoLLM(**kwargs))
            return built[-1]
        return VLLMApi(make, lambda **fields: fields)

    engine = VLLMOfflineEngine("tiny", llm_factory=factory)
    (response,) = list(engine.generate([video_request(part)]))
    assert response.text == "seen" and response.error is None
    (prompt,) = built[0].prompts
    assert prompt["prompt"] == "<video>what happens?<assistant>"
    ((frames, metadata),) = prompt["multi_modal_data"]["video"]
    assert [read_index(frame) for frame in frames] == list(part.plan.indices)
    assert metadata["frames_indices"] == list(part.plan.indices) and metadata["do_sample_frames"] is False
    assert metadata["total_num_frames"] == 40
