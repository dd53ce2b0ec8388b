"""Load a model and its processor with transformers, lazily, offline when HF_HUB_OFFLINE is set.

Without torchvision, transformers cannot build a Qwen-VL video processor, so `AutoProcessor` fails; the
processor is then assembled from its parts: the tokenizer, the (PIL) image processor, and the
torch-only video processor of `hf_video`, configured from the model's own processor files.
"""

from __future__ import annotations

import os
from typing import Any

from vlmeval.engines.hf_video import torchvision_available, video_processor_class


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def hub_options(revision: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {"revision": revision}
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        options["local_files_only"] = True
    return options


def _torch_dtype(dtype: str) -> Any:
    if dtype == "auto":
        return "auto"
    import torch

    resolved = getattr(torch, dtype, None)
    if not isinstance(resolved, torch.dtype):
        raise ValueError(f"unknown torch dtype {dtype!r} (auto, float32, bfloat16, float16)")
    return resolved


def load_model(model: str, revision: str | None = None, device: str = "cpu",
               dtype: str = "auto") -> tuple[Any, Any]:
    """(model on `device` in eval mode, processor with left padding)."""
    from transformers import AutoModelForImageTextToText

    options = hub_options(revision)
    auto_class: Any = AutoModelForImageTextToText
    loaded = auto_class.from_pretrained(model, dtype=_torch_dtype(dtype), **options)
    loaded.to(device)
    loaded.eval()
    return loaded, load_processor(model, loaded.config.model_type, options)


def load_processor(model: str, model_type: str, options: dict[str, Any]) -> Any:
    from transformers import AutoProcessor

    if torchvision_available():
        processor = AutoProcessor.from_pretrained(model, **options)
    else:
        processor = _assembled_processor(model, model_type, options)
    processor.tokenizer.padding_side = "left"
    return processor


def _assembled_processor(model: str, model_type: str, options: dict[str, Any]) -> Any:
    import transformers
    from transformers import AutoImageProcessor, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model, **options)
    image_processor = AutoImageProcessor.from_pretrained(model, **options)
    video_processor = video_processor_class(model_type).from_pretrained(model, **options)
    processor_class = _accepting_torch_only_video(getattr(transformers, _processor_class_name(model_type)))
    return processor_class(image_processor=image_processor, tokenizer=tokenizer,
                           video_processor=video_processor, chat_template=tokenizer.chat_template)


def _processor_class_name(model_type: str) -> str:
    """The processor class transformers' auto mapping names for the model type."""
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES

    name = PROCESSOR_MAPPING_NAMES.get(model_type)
    if not name:
        raise ImportError(f"no processor is known for model type {model_type!r} without torchvision")
    return str(name)


def _accepting_torch_only_video(processor_class: Any) -> Any:
    """The processor class, but accepting a video processor that is no torchvision one.

    Without torchvision transformers' check of the video processor's base class looks it up in a mapping
    that is then a placeholder and fails; the subclass (same name, same behaviour otherwise) checks the
    video processor against the real base class instead.
    """
    from transformers.video_processing_utils import VideoProcessorMixin

    def check_argument_for_proper_class(self: Any, argument_name: str, argument: Any) -> Any:
        if argument_name == "video_processor" and isinstance(argument, VideoProcessorMixin):
            return type(argument)
        return processor_class.check_argument_for_proper_class(self, argument_name, argument)

    return type(processor_class.__name__, (processor_class,),
                {"check_argument_for_proper_class": check_argument_for_proper_class,
                 "__module__": processor_class.__module__})
