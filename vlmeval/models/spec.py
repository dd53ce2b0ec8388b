"""Parse `--model`: a preset name, `openai:<preset or served name>`, `openai:URL1,URL2#<name>`,
`replay:<file>`, or a hub id/path."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vlmeval.models.presets import PRESETS, ModelPreset
from vlmeval.types import MediaLimits, Sampling

# "vllm" and "transformers" run the weights in this process (or its workers); "openai" asks servers.
EngineKind = Literal["vllm", "transformers", "openai", "replay"]
LocalEngine = Literal["vllm", "transformers"]
LOCAL_ENGINES: tuple[LocalEngine, ...] = ("vllm", "transformers")

# Engine arguments that spread a model over devices: they change where it runs, not what it answers, so
# they stay out of the run's fingerprint (a run started on 8 GPUs resumes on 4) and live in the manifest.
PARALLEL_ENGINE_ARGS = frozenset({
    "tensor_parallel_size", "pipeline_parallel_size", "enable_expert_parallel",
    "distributed_executor_backend", "data_parallel_size",
})


# The sampling of requests answered from a file (replay): nothing is generated, so nothing is sent.
NO_GENERATION = Sampling(max_tokens=0)


class ModelSpecError(ValueError):
    pass


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: EngineKind
    model_id: str | None = None
    sampling: Sampling | None = None
    media_limits: MediaLimits = field(default_factory=MediaLimits)
    thinking: bool = False
    preset: str | None = None
    engine_args: dict[str, Any] = field(default_factory=dict)
    replay_path: Path | None = None
    coordinates: str = "relative-1000"
    image_factor: int = 32
    video_sampling: str = "qwen3-vl"
    max_video_frames: int = 2048
    # Several OpenAI-compatible endpoints serving the same model (`openai:URL1,URL2#name`); empty: the
    # --base-url one.
    base_urls: tuple[str, ...] = ()

    def settings(self) -> dict[str, Any]:
        """What the manifest and the run fingerprint record about the model (not where it runs)."""
        return {
            "name": self.name,
            "engine": self.kind,
            "model_id": self.model_id,
            "preset": self.preset,
            "sampling": self.sampling.as_dict() if self.sampling else None,
            "media_limits": self.media_limits.as_dict(),
            "thinking": self.thinking,
            "engine_args": {k: v for k, v in self.engine_args.items() if k not in PARALLEL_ENGINE_ARGS},
            "replay_path": str(self.replay_path.resolve()) if self.replay_path else None,
            "coordinates": self.coordinates,
            "image_factor": self.image_factor,
            "video_sampling": self.video_sampling,
            "max_video_frames": self.max_video_frames,
        }


    def parallelism(self) -> dict[str, Any]:
        """The engine arguments that spread the model over devices (recorded in the manifest only)."""
        return {k: v for k, v in self.engine_args.items() if k in PARALLEL_ENGINE_ARGS}


def resolve_model(
    spec: str, sampling_overrides: dict[str, Any] | None = None, strip_thinking: bool | None = None,
    local_engine: LocalEngine = "vllm",
) -> ModelSpec:
    """`sampling_overrides` are Sampling fields given on the command line; None values are ignored.
    `local_engine` runs a preset or hub id that is not served elsewhere."""
    overrides = {k: v for k, v in (sampling_overrides or {}).items() if v is not None}
    if spec.startswith("replay:"):
        path = Path(spec.removeprefix("replay:"))
        if not path.is_file():
            raise ModelSpecError(f"replay file {path} does not exist")
        return ModelSpec(name=f"replay-{_slug(path.stem)}", kind="replay", replay_path=path)
    kind: EngineKind = local_engine
    base_urls: tuple[str, ...] = ()
    if spec.startswith("openai:"):
        kind = "openai"
        base_urls, spec = split_endpoints(spec.removeprefix("openai:"))
    if spec in PRESETS:
        resolved = _from_preset(PRESETS[spec], kind, overrides)
    elif "/" not in spec and kind != "openai":
        raise ModelSpecError(
            f"unknown model {spec!r}: not a preset (see `vlmeval list models`), a hub id like "
            "Org/Name, a local path, `openai:<name>` or `replay:<file>`"
        )
    else:
        resolved = _explicit(spec, kind, overrides)
    if strip_thinking is not None:
        resolved = dataclasses.replace(resolved, thinking=strip_thinking)
    return dataclasses.replace(resolved, base_urls=base_urls)


def split_endpoints(text: str) -> tuple[tuple[str, ...], str]:
    """`URL1,URL2#name` -> ((URL1, URL2), name); a plain `name` has no endpoints of its own."""
    if "#" not in text:
        return (), text
    urls, _, name = text.rpartition("#")
    endpoints = tuple(url.strip() for url in urls.split(",") if url.strip())
    if not name or not endpoints:
        raise ModelSpecError(f"expected openai:URL1,URL2,...#model, got {text!r}")
    bad = [url for url in endpoints if not url.startswith(("http://", "https://"))]
    if bad:
        raise ModelSpecError(f"endpoint {bad[0]!r} is not an http(s) URL (openai:URL1,URL2,...#model)")
    return endpoints, name


def _from_preset(preset: ModelPreset, kind: EngineKind, overrides: dict[str, Any]) -> ModelSpec:
    sampling = dataclasses.replace(preset.sampling, **overrides)
    return ModelSpec(
        name=preset.name + _engine_suffix(kind),
        kind=kind,
        model_id=preset.hf_id,
        sampling=sampling,
        media_limits=preset.media_limits,
        thinking=preset.thinking,
        preset=preset.name,
        engine_args=dict(preset.engine_args) if kind == "vllm" else {},
        coordinates=preset.coordinates,
        image_factor=preset.image_factor,
        video_sampling=preset.video_sampling,
        max_video_frames=preset.max_video_frames,
    )


def _explicit(model_id: str, kind: EngineKind, overrides: dict[str, Any]) -> ModelSpec:
    if "max_tokens" not in overrides:
        raise ModelSpecError(
            f"{model_id!r} is not a preset, so its sampling must be given explicitly: at least "
            "--max-tokens (and --temperature, --top-p, ... as the model's report states)"
        )
    return ModelSpec(
        name=_slug(model_id) + _engine_suffix(kind),
        kind=kind,
        model_id=model_id,
        sampling=Sampling(**overrides),
    )


def _engine_suffix(kind: EngineKind) -> str:
    """Run names say when answers come from somewhere other than vLLM on local weights."""
    return "" if kind == "vllm" else f"@{kind}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower()


def strip_thinking(text: str) -> str:
    """Keep what follows the last `</think>`, as the Qwen3-VL evaluation scripts do before scoring."""
    return text.split("</think>")[-1].strip()
