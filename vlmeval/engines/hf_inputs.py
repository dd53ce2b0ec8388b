"""Requests as a transformers processor's inputs: chat template text, decoded images, pre-sampled frames.

The media parts mirror the vLLM engine: images decoded with `open_rgb` (RGBA onto white), videos as the
frames the harness sampled plus their metadata, so the processor never samples again
(`do_sample_frames=False`) and Qwen3-VL's timestamps come from the source fps and frame indices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from vlmeval.engines.messages import chat_dicts
from vlmeval.media.images import open_rgb
from vlmeval.types import ImageRef, MediaLimits, Request, VideoPart
from vlmeval.video.frames import load_frames, video_metadata

# The fields of our frame metadata that transformers' VideoMetadata takes.
_METADATA_FIELDS = ("fps", "total_num_frames", "frames_indices", "duration")


@dataclass
class PreparedItem:
    """One request ready to batch: its prompt text and its media, decoded, in prompt order."""

    request: Request
    text: str
    images: list[Any] = field(default_factory=list)
    videos: list[Any] = field(default_factory=list)
    video_metadata: list[dict[str, Any]] = field(default_factory=list)


def frame_metadata(part: VideoPart) -> dict[str, Any]:
    metadata = video_metadata(part)
    return {name: metadata[name] for name in _METADATA_FIELDS}


def prepare_item(request: Request, processor: Any) -> PreparedItem:
    """Decode the request's media and render its chat template; raises for a bad image or video."""
    item = PreparedItem(request, "")

    def image_part(image: ImageRef) -> dict[str, Any]:
        item.images.append(open_rgb(image))
        return {"type": "image"}

    def video_part(video: VideoPart) -> dict[str, Any]:
        item.videos.append(load_frames(video))
        item.video_metadata.append(frame_metadata(video))
        return {"type": "video"}

    turns = chat_dicts(request.messages, image_part, video_part)
    templater = processor if getattr(processor, "chat_template", None) else processor.tokenizer
    item.text = templater.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
    return item


def image_size_bounds(processor: Any, limits: MediaLimits) -> dict[str, int] | None:
    """The image processor's `size` with the request's pixel bounds (vLLM's min_pixels/max_pixels)."""
    if limits.min_pixels is None and limits.max_pixels is None:
        return None
    size = dict(getattr(processor.image_processor, "size", None) or {})
    if limits.min_pixels is not None:
        size["shortest_edge"] = limits.min_pixels
    if limits.max_pixels is not None:
        size["longest_edge"] = limits.max_pixels
    return size


def batch_inputs(processor: Any, items: Sequence[PreparedItem], limits: MediaLimits) -> Any:
    """One padded batch (the tokenizer pads on the left) as the processor builds it, torch tensors."""
    kwargs: dict[str, Any] = {"text": [item.text for item in items], "padding": True, "return_tensors": "pt"}
    images = [image for item in items for image in item.images]
    videos = [video for item in items for video in item.videos]
    if images:
        kwargs["images"] = images
        size = image_size_bounds(processor, limits)
        if size is not None:
            kwargs["images_kwargs"] = {"size": size}
    if videos:
        kwargs["videos"] = videos
        kwargs["videos_kwargs"] = {
            "video_metadata": [meta for item in items for meta in item.video_metadata],
            "do_sample_frames": False,
        }
    return processor(**kwargs)
