"""The Qwen-VL families with the settings their reports and evaluation scripts state.

Sources (see ../shared/reference/benchmarks.md section 2):
- Qwen3-VL instruct: Qwen3-VL repo README "Evaluation Reproduction" (T=0.7, top_p=0.8, top_k=20,
  repetition_penalty=1.0, presence_penalty=1.5, 32,768 output tokens, seed 3407).
- Qwen3-VL thinking: same README (top_p=0.95, top_k=20, presence_penalty=0.0, 40,960 tokens, seed 1234),
  T=0.6 for the MoE models and T=1.0 for the dense ones (report section 5.11 split; model cards say 1.0).
  Thinking output is cut at the last `</think>` before scoring.
- Qwen2-VL / Qwen2.5-VL: no sampling in the papers; the released generation_config / evaluation code is
  near-greedy (T=0.01, top_p=0.001, top_k=1; Qwen2-VL repetition_penalty 1.05). max_tokens 2048 and
  seed 42 are our choices, stated here because the papers state none.
- Devices (not in the reports; what the bf16 weights need on 80 GB GPUs, with room for a long context's KV
  cache): tensor parallel 2 for the 32B and 30B-A3B models, 4 for the 72B ones, 8 for 235B-A22B; the MoE
  models spread their experts over those GPUs (vLLM's expert parallelism). `--tensor-parallel-size`,
  `--pipeline-parallel-size` and `--max-model-len` override them; they are kept out of the run fingerprint.
- Pixel bounds: the processors' defaults (qwen-vl-utils): 4..16,384 visual tokens of 28x28 px for
  Qwen2/2.5-VL and 32x32 px for Qwen3-VL. A task may narrow them (MathVision: 768..5120 x 28x28).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vlmeval.types import MediaLimits, Sampling


@dataclass(frozen=True)
class ModelPreset:
    name: str
    hf_id: str
    family: str
    sampling: Sampling
    media_limits: MediaLimits
    thinking: bool = False
    # How the model writes boxes and points (see vlmeval.grounding.coords), and the processor's resize
    # factor (patch size x spatial merge): 28 for Qwen2/2.5-VL, 32 for Qwen3-VL.
    coordinates: str = "relative-1000"
    image_factor: int = 32
    # Whose frame-index maths the model's processor uses, and its frame cap (Qwen3-VL report: 2,048;
    # Qwen2-VL paper: at most 768 frames).
    video_sampling: str = "qwen3-vl"
    max_video_frames: int = 2048
    engine_args: dict[str, Any] = field(default_factory=dict)


QWEN2_PIXELS = MediaLimits(min_pixels=4 * 28 * 28, max_pixels=16384 * 28 * 28)
QWEN3_PIXELS = MediaLimits(min_pixels=4 * 32 * 32, max_pixels=16384 * 32 * 32)

QWEN3_INSTRUCT = Sampling(
    max_tokens=32768, temperature=0.7, top_p=0.8, top_k=20,
    presence_penalty=1.5, repetition_penalty=1.0, seed=3407,
)


def _qwen3_thinking(temperature: float) -> Sampling:
    return Sampling(
        max_tokens=40960, temperature=temperature, top_p=0.95, top_k=20,
        presence_penalty=0.0, repetition_penalty=1.0, seed=1234,
    )


QWEN2_GREEDY = Sampling(
    max_tokens=2048, temperature=0.01, top_p=0.001, top_k=1,
    presence_penalty=0.0, repetition_penalty=1.05, seed=42,
)
QWEN25_GREEDY = Sampling(
    max_tokens=2048, temperature=0.01, top_p=0.001, top_k=1,
    presence_penalty=0.0, repetition_penalty=1.0, seed=42,
)

QWEN3_SIZES = {"2b": False, "4b": False, "8b": False, "32b": False, "30b-a3b": True, "235b-a22b": True}
QWEN3_TENSOR_PARALLEL = {"32b": 2, "30b-a3b": 2, "235b-a22b": 8}
QWEN2_TENSOR_PARALLEL = {"32b": 2, "72b": 4}
# Qwen3-VL's native context (256K tokens) holds the report's longest videos (2,048 frames at 640x360).
QWEN3_MAX_MODEL_LEN = 262144


def _qwen3_presets() -> list[ModelPreset]:
    presets = []
    for size, is_moe in QWEN3_SIZES.items():
        hub_size = size.upper()
        engine_args: dict[str, Any] = {"max_model_len": QWEN3_MAX_MODEL_LEN,
                                       "limit_mm_per_prompt": {"image": 8}}
        if size in QWEN3_TENSOR_PARALLEL:
            engine_args["tensor_parallel_size"] = QWEN3_TENSOR_PARALLEL[size]
        if is_moe:
            engine_args["enable_expert_parallel"] = True
        presets.append(ModelPreset(
            f"qwen3-vl-{size}-instruct", f"Qwen/Qwen3-VL-{hub_size}-Instruct", "qwen3-vl",
            QWEN3_INSTRUCT, QWEN3_PIXELS, engine_args=engine_args,
        ))
        presets.append(ModelPreset(
            f"qwen3-vl-{size}-thinking", f"Qwen/Qwen3-VL-{hub_size}-Thinking", "qwen3-vl",
            _qwen3_thinking(0.6 if is_moe else 1.0), QWEN3_PIXELS, thinking=True, engine_args=engine_args,
        ))
    return presets


def _qwen2_engine_args(size: str) -> dict[str, Any]:
    args: dict[str, Any] = {"max_model_len": 32768, "limit_mm_per_prompt": {"image": 8}}
    if size in QWEN2_TENSOR_PARALLEL:
        args["tensor_parallel_size"] = QWEN2_TENSOR_PARALLEL[size]
    return args


def _qwen2_presets() -> list[ModelPreset]:
    presets = []
    for size in ("2b", "7b", "72b"):
        presets.append(ModelPreset(
            f"qwen2-vl-{size}-instruct", f"Qwen/Qwen2-VL-{size.upper()}-Instruct", "qwen2-vl",
            QWEN2_GREEDY, QWEN2_PIXELS, coordinates="relative-1000", image_factor=28,
            video_sampling="qwen2-vl", max_video_frames=768, engine_args=_qwen2_engine_args(size),
        ))
    for size in ("3b", "7b", "32b", "72b"):
        presets.append(ModelPreset(
            f"qwen2.5-vl-{size}-instruct", f"Qwen/Qwen2.5-VL-{size.upper()}-Instruct", "qwen2.5-vl",
            QWEN25_GREEDY, QWEN2_PIXELS, coordinates="absolute-pixels", image_factor=28,
            video_sampling="qwen2-vl", max_video_frames=768, engine_args=_qwen2_engine_args(size),
        ))
    return presets


PRESETS: dict[str, ModelPreset] = {p.name: p for p in [*_qwen3_presets(), *_qwen2_presets()]}
