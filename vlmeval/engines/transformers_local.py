"""Engine running a Qwen-VL (or any image-text-to-text) model with transformers, on CPU or GPU.

torch and transformers are imported only when the model is first needed, never at module import. The
model loads on the first `generate` (`loader`, by default `hf_loading.load_model`; tests pass their own).

Requests are grouped by (sampling, media limits) and sent in left-padded batches of `batch_size`, so a
batch shares one GenerationConfig and one seed. If a batch fails, its items are retried one by one so
only the culprit gets an error. Sampling maps onto transformers as `hf_sampling` documents; the model's
generation_config.json decides nothing except which tokens stop generation.
"""

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from vlmeval.engines.hf_inputs import PreparedItem, batch_inputs, prepare_item
from vlmeval.engines.hf_loading import load_model, resolve_device
from vlmeval.engines.hf_sampling import SAMPLING_NOTES, build_generation_config, vllm_penalties
from vlmeval.engines.hf_video import video_backend
from vlmeval.types import MediaLimits, Request, Response, Sampling, Usage

Loader = Callable[..., tuple[Any, Any]]


class TransformersEngine:
    """transformers' `generate` in this process. Failing to load the model raises; item failures do not."""

    name = "transformers"

    def __init__(self, model: str, revision: str | None = None, device: str = "auto", dtype: str = "auto",
                 batch_size: int = 8, loader: Loader | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model
        self.revision = revision
        self.device = device
        self.dtype = dtype
        self.batch_size = batch_size
        self._loader = loader or load_model
        self._model: Any = None
        self._processor: Any = None
        self._stop_ids: list[int] = []
        self._pad_id: int | None = None

    def describe(self) -> dict[str, Any]:
        # The manifest is written before the first generate: say which device "auto" will be.
        self.device = resolve_device(self.device)
        return {
            "engine": self.name,
            "model": self.model,
            "revision": self.revision,
            "device": self.device,
            "dtype": self.dtype,
            "batch_size": self.batch_size,
            "torch_version": _installed("torch"),
            "transformers_version": _installed("transformers"),
            "video_backend": video_backend(),
            "sampling_mapping": dict(SAMPLING_NOTES),
        }

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        if not requests:
            return
        self._load()
        groups: dict[tuple[Sampling, MediaLimits], list[Request]] = {}
        for request in requests:
            groups.setdefault((request.sampling, request.media_limits), []).append(request)
        for (sampling, limits), group in groups.items():
            for start in range(0, len(group), self.batch_size):
                # Media are decoded one batch at a time, so only that batch's pixels sit in memory.
                items, failed = self._prepare(group[start:start + self.batch_size])
                yield from failed
                if items:
                    yield from self._run_isolating_failures(items, sampling, limits)

    def _load(self) -> None:
        if self._model is not None:
            return
        self.device = resolve_device(self.device)
        model, processor = self._loader(self.model, revision=self.revision, device=self.device,
                                        dtype=self.dtype)
        self._stop_ids, self._pad_id = _stop_and_pad_ids(model, processor)
        _replace_generation_config(model, self._stop_ids, self._pad_id)
        processor.tokenizer.padding_side = "left"
        self._model, self._processor = model, processor

    def _prepare(self, batch: Sequence[Request]) -> tuple[list[PreparedItem], list[Response]]:
        items: list[PreparedItem] = []
        failed: list[Response] = []
        for request in batch:
            try:
                items.append(prepare_item(request, self._processor))
            except Exception as exc:  # a bad image or video fails its own item only
                failed.append(Response(sample_id=request.sample_id, text="", error=_describe(exc)))
        return items, failed

    def _run_isolating_failures(self, items: list[PreparedItem], sampling: Sampling,
                                limits: MediaLimits) -> list[Response]:
        try:
            return self._run_batch(items, sampling, limits)
        except Exception as exc:  # retried one by one below, so only the culprit fails
            if len(items) == 1:
                return [Response(sample_id=items[0].request.sample_id, text="", error=_describe(exc))]
        responses: list[Response] = []
        for item in items:
            responses.extend(self._run_isolating_failures([item], sampling, limits))
        return responses

    def _run_batch(self, items: list[PreparedItem], sampling: Sampling,
                   limits: MediaLimits) -> list[Response]:
        import torch
        from transformers import LogitsProcessorList

        started = time.perf_counter()
        inputs = batch_inputs(self._processor, items, limits).to(self.device)
        mask = inputs["attention_mask"]
        prompt_length = int(mask.shape[1])
        pad_lengths = [int(n) for n in (mask == 0).sum(dim=1)]
        penalties = vllm_penalties(sampling, pad_lengths, prompt_length)
        config = build_generation_config(sampling, self._stop_ids, self._pad_id)
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)
        with torch.inference_mode():
            output = self._model.generate(
                **inputs, generation_config=config,
                logits_processor=LogitsProcessorList([penalties] if penalties is not None else []))
        sequences = output if isinstance(output, torch.Tensor) else output.sequences
        elapsed = time.perf_counter() - started
        return [self._response(item, row[prompt_length:].tolist(), prompt_length - pads, elapsed)
                for item, row, pads in zip(items, sequences, pad_lengths, strict=True)]

    def _response(self, item: PreparedItem, generated: list[int], prompt_tokens: int,
                  latency: float) -> Response:
        stop = next((i for i, token in enumerate(generated) if token in self._stop_ids), None)
        kept = generated if stop is None else generated[:stop]
        text = self._processor.tokenizer.decode(kept, skip_special_tokens=True)
        # Like vLLM, the stop token counts as a completion token; padding after it does not.
        completion = len(generated) if stop is None else stop + 1
        return Response(sample_id=item.request.sample_id, text=text,
                        finish_reason="length" if stop is None else "stop",
                        usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion),
                        latency_s=latency)


def _stop_and_pad_ids(model: Any, processor: Any) -> tuple[list[int], int | None]:
    """Stop ids: the model's generation config's eos ids and the tokenizer's eos (not sampling settings)."""
    tokenizer = processor.tokenizer
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = configured if isinstance(configured, list) else [configured]
    stop_ids = [int(i) for i in [*ids, tokenizer.eos_token_id] if i is not None]
    stop_ids = list(dict.fromkeys(stop_ids))
    if not stop_ids:
        raise ValueError(f"{getattr(model, 'name_or_path', 'the model')} names no eos token to stop on")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stop_ids[0]
    return stop_ids, int(pad_id)


def _replace_generation_config(model: Any, stop_ids: list[int], pad_id: int | None) -> None:
    """The model keeps only stop and pad ids: generate() must find no sampling values to fill ours from."""
    from transformers import GenerationConfig

    model.generation_config = GenerationConfig(eos_token_id=stop_ids, pad_token_id=pad_id)


def _installed(distribution: str) -> str | None:
    try:  # the installed distribution's metadata, without importing it
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
