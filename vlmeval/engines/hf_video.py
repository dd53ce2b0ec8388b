"""Qwen-VL video processors for an install without torchvision (there is no CPU build of it on PyPI).

transformers' Qwen video processors reach torchvision for three primitives only: grayscale-to-RGB,
resize, and normalize. The classes here keep every other step of the model's own processor (the size
maths of `smart_resize`, temporal padding, patchify, grid_thw) and replace just those three with
torch-only equivalents: `torch.nn.functional.interpolate` with antialiasing (the kernel torchvision's
tensor resize itself calls), and plain tensor arithmetic. Token layout (grid_thw, number of
<|video_pad|> tokens, Qwen3-VL timestamps) is therefore exactly the processor's; pixel values may differ
from torchvision's in the last rounding bit of the uint8 resize.

Qwen3-VL: a subclass of transformers' `Qwen3VLVideoProcessor`, whose module imports without torchvision.
Qwen2-VL / Qwen2.5-VL: transformers' module imports torchvision at top level, so the subclass of the
Qwen3 class here swaps in Qwen2-VL's class defaults and its `resize` size maths (the two classes'
`_preprocess` and `patchify` are the same code).

Everything imports lazily: `video_processor_class` is the only entry point.
"""

from __future__ import annotations

import importlib.util
from typing import Any, ClassVar

VIDEO_BACKEND_TORCHVISION = "torchvision"
VIDEO_BACKEND_FALLBACK = "torch"

_QWEN2_TYPES = frozenset({"qwen2_vl", "qwen2_5_vl"})
_QWEN3_TYPES = frozenset({"qwen3_vl", "qwen3_vl_moe"})


def torchvision_available() -> bool:
    return importlib.util.find_spec("torchvision") is not None


def video_backend() -> str:
    return VIDEO_BACKEND_TORCHVISION if torchvision_available() else VIDEO_BACKEND_FALLBACK


def video_processor_class(model_type: str) -> Any:
    """The torchvision-free video processor class for a model type; raises for a family it cannot serve."""
    if model_type in _QWEN3_TYPES:
        return _fallback_classes()[1]
    if model_type in _QWEN2_TYPES:
        return _fallback_classes()[0]
    raise ImportError(f"video for model type {model_type!r} needs torchvision (pip install torchvision)")


_CLASSES: tuple[Any, Any] | None = None


def _fallback_classes() -> tuple[Any, Any]:
    global _CLASSES
    if _CLASSES is None:
        _CLASSES = _define_classes()
    return _CLASSES


_INTERPOLATION = {0: "nearest-exact", 2: "bilinear", 3: "bicubic"}


def _define_classes() -> tuple[Any, Any]:
    """Defined on first use so that importing this module imports neither torch nor transformers."""
    from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor

    # Typed Any: the base's signatures vary across transformers versions; ours take what they are given.
    qwen3_base: Any = Qwen3VLVideoProcessor
    ops = _torch_only_ops()

    class Qwen3VLVideoProcessorTorchOnly(qwen3_base, ops):  # type: ignore[valid-type,misc]
        """transformers' Qwen3-VL video processor with torch-only primitives."""

    return _qwen2_class(Qwen3VLVideoProcessorTorchOnly, ops), Qwen3VLVideoProcessorTorchOnly


def _torch_only_ops() -> Any:
    import torch
    from transformers.video_processing_utils import BaseVideoProcessor

    video_base: Any = BaseVideoProcessor

    class TorchOnlyVideoOps(video_base):
        """The three torchvision primitives, in torch alone; sits right under the model's class in the MRO."""

        def convert_to_rgb(self, video: Any, *args: Any, **kwargs: Any) -> Any:
            if video.shape[-3] == 1:
                video = video.expand(*video.shape[:-3], 3, *video.shape[-2:])
            return video

        def resize(self, image: Any, size: Any, resample: Any = None, antialias: bool = True,
                   **kwargs: Any) -> Any:
            mode = _INTERPOLATION.get(int(resample) if resample is not None else 2)
            if mode is None:
                raise ValueError(f"resample {resample!r} has no torch equivalent without torchvision")
            leading = image.shape[:-3]
            flat = image.reshape(-1, *image.shape[-3:])
            resized = torch.nn.functional.interpolate(
                flat.to(torch.float32), size=(size.height, size.width), mode=mode,
                antialias=antialias and mode != "nearest-exact",
                **({} if mode == "nearest-exact" else {"align_corners": False}))
            if image.dtype == torch.uint8:
                resized = resized.round().clamp(0, 255).to(torch.uint8)
            return resized.reshape(*leading, *resized.shape[-3:])

        def normalize(self, image: Any, mean: Any, std: Any, inplace: bool = False, **kwargs: Any) -> Any:
            channels = image.shape[-3]
            mean_t = torch.as_tensor(mean, dtype=image.dtype, device=image.device).reshape(-1, 1, 1)
            std_t = torch.as_tensor(std, dtype=image.dtype, device=image.device).reshape(-1, 1, 1)
            return (image - mean_t.expand(channels, 1, 1)) / std_t.expand(channels, 1, 1)

    return TorchOnlyVideoOps


def _qwen2_class(qwen3_torch_only: Any, ops: Any) -> Any:
    from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, SizeDict
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as qwen2_smart_resize

    class Qwen2VLVideoProcessorTorchOnly(qwen3_torch_only):
        """Qwen2-VL's video processor: its defaults and size maths on the shared patchify/preprocess."""

        size: ClassVar[dict[str, int]] = {"shortest_edge": 128 * 28 * 28, "longest_edge": 28 * 28 * 768}
        image_mean = OPENAI_CLIP_MEAN
        image_std = OPENAI_CLIP_STD
        patch_size = 14
        do_sample_frames = False
        max_video_tokens = 128000

        def __init__(self, **kwargs: Any) -> None:
            size = dict(kwargs.pop("size", None) or self.size)
            if (min_pixels := kwargs.pop("min_pixels", None)) is not None:
                size["shortest_edge"] = min_pixels
            if (max_pixels := kwargs.pop("max_pixels", None)) is not None:
                size["longest_edge"] = max_pixels
            super().__init__(size=size, **kwargs)

        # Qwen's own `resize` takes whole videos and the size maths' factors (so a different signature).
        def resize(
                self, videos: Any, size: Any, resample: Any, factor: int = 28, temporal_factor: int = 2,
                cap_pixels_per_frame: bool | None = None, **kwargs: Any) -> Any:
            max_pixels = size.longest_edge
            if cap_pixels_per_frame:
                total_pixels = int(self.max_video_tokens * factor * factor * 0.9)
                max_pixels = max(min(max_pixels, total_pixels * temporal_factor // videos.shape[1]),
                                 int(size.shortest_edge * 1.05))
            height, width = qwen2_smart_resize(videos.shape[-2], videos.shape[-1], factor=factor,
                                               min_pixels=size.shortest_edge, max_pixels=max_pixels)
            return ops.resize(self, videos, SizeDict(height=height, width=width), resample)

        def get_num_of_video_patches(self, num_frames: int, height: int, width: int,
                                     videos_kwargs: dict[str, Any] | None = None) -> int:
            size = (videos_kwargs or {}).get("size") or self.size
            factor = self.patch_size * self.merge_size
            resized_h, resized_w = qwen2_smart_resize(height, width, factor, min_pixels=size["shortest_edge"],
                                                      max_pixels=size["longest_edge"])
            grid_t = -(-num_frames // self.temporal_patch_size)
            return int(grid_t * (resized_h // self.patch_size) * (resized_w // self.patch_size))

    return Qwen2VLVideoProcessorTorchOnly
