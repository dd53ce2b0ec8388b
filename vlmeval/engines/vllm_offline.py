"""Engine for vLLM's offline `LLM`: all requests of a media-limits group in one `chat` call.

vLLM is imported only when a model is first needed (`import_vllm`), never at module import: the core
and CI run without it. Tests replace that one import point through `llm_factory`.

Sampling: every field reaches `SamplingParams` explicitly, so neither vLLM's defaults (max_tokens 16)
nor the model's generation_config.json decide anything. A field our `Sampling` leaves as None gets
vLLM's neutral value, listed in `UNSET_SAMPLING_VALUES` and reported by `describe()`.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from vlmeval.engines.messages import chat_dicts
from vlmeval.media.images import open_rgb
from vlmeval.types import MediaLimits, Message, Request, Response, Sampling, Usage

# What a None field of `Sampling` becomes: the value that leaves the distribution untouched, which is
# also vLLM's own default (0.33). seed None means vLLM draws a fresh seed for the request.
UNSET_SAMPLING_VALUES: dict[str, Any] = {
    "temperature": 1.0,
    "top_p": 1.0,
    "top_k": 0,  # 0 (or -1) means all tokens
    "presence_penalty": 0.0,
    "repetition_penalty": 1.0,
    "seed": None,
}


@dataclass(frozen=True)
class VLLMApi:
    """The parts of vLLM the engine uses, from one place: `import_vllm`, or a fake in tests."""

    llm_class: Callable[..., Any]
    sampling_params_class: Callable[..., Any]
    version: str | None = None


def import_vllm() -> VLLMApi:
    try:
        import vllm
    except ImportError as exc:
        raise ImportError("the vllm-offline engine needs vLLM installed (pip install vllm)") from exc
    return VLLMApi(vllm.LLM, vllm.SamplingParams, getattr(vllm, "__version__", None))


def sampling_values(sampling: Sampling) -> dict[str, Any]:
    """Keyword arguments for `SamplingParams`, every field present, None replaced by its neutral value."""
    values: dict[str, Any] = {"max_tokens": sampling.max_tokens}
    for field, neutral in UNSET_SAMPLING_VALUES.items():
        value = getattr(sampling, field)
        values[field] = neutral if value is None else value
    return values


def conversation(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Chat messages for `LLM.chat`, images decoded to RGB PIL images, parts in their original order."""
    return chat_dicts(messages, lambda image: {"type": "image_pil", "image_pil": open_rgb(image)})


@dataclass(frozen=True)
class _Prepared:
    sample_id: str
    conversation: list[dict[str, Any]]
    sampling_params: Any


class VLLMOfflineEngine:
    """vLLM's offline engine in this process; the model loads on the first `generate`.

    `llm_factory` returns a `VLLMApi` (the LLM and SamplingParams classes); it defaults to
    `import_vllm`. Failing to load vLLM or the model raises: no request could be answered then.
    Offline generation has no per-request timing, so `latency_s` stays None.
    """

    name = "vllm-offline"

    def __init__(
        self,
        model: str,
        revision: str | None = None,
        engine_args: dict[str, Any] | None = None,
        llm_factory: Callable[[], VLLMApi] | None = None,
    ) -> None:
        engine_args = dict(engine_args or {})
        clashing = sorted({"model", "revision"} & engine_args.keys())
        if clashing:
            raise ValueError(f"pass {', '.join(clashing)} as their own arguments, not in engine_args")
        self.model = model
        self.revision = revision
        # "vllm" stops the model's generation_config.json from filling in sampling fields.
        self.engine_args: dict[str, Any] = {"generation_config": "vllm", **engine_args}
        self._llm_factory = llm_factory
        self._api: VLLMApi | None = None
        self._llm: Any = None

    def describe(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "model": self.model,
            "revision": self.revision,
            "engine_args": dict(self.engine_args),
            "unset_sampling_values": dict(UNSET_SAMPLING_VALUES),
            "vllm_version": self._vllm_version(),
        }

    def generate(self, requests: Sequence[Request]) -> Iterator[Response]:
        if not requests:
            return
        api, llm = self._loaded()
        groups: dict[MediaLimits, list[Request]] = {}
        for request in requests:
            groups.setdefault(request.media_limits, []).append(request)
        for limits, group in groups.items():
            # Images are decoded one group at a time, so only that group's pixels sit in memory.
            prepared: list[_Prepared] = []
            for request in group:
                try:
                    prepared.append(self._prepare(api, request))
                except Exception as exc:  # a bad item must not stop the batch
                    yield Response(sample_id=request.sample_id, text="", error=_describe(exc))
            if prepared:
                yield from self._chat_isolating_failures(llm, prepared, limits.as_dict() or None)

    def _loaded(self) -> tuple[VLLMApi, Any]:
        if self._api is None or self._llm is None:
            api = (self._llm_factory or import_vllm)()
            self._llm = api.llm_class(model=self.model, revision=self.revision, **self.engine_args)
            self._api = api
        return self._api, self._llm

    @staticmethod
    def _prepare(api: VLLMApi, request: Request) -> _Prepared:
        return _Prepared(
            sample_id=request.sample_id,
            conversation=conversation(request.messages),
            sampling_params=api.sampling_params_class(**sampling_values(request.sampling)),
        )

    def _chat_isolating_failures(
        self, llm: Any, batch: list[_Prepared], mm_processor_kwargs: dict[str, Any] | None
    ) -> list[Response]:
        """One `chat` call for the whole batch; if vLLM rejects it, halve until the culprits stand alone.

        vLLM validates all prompts before generating and raises for the whole call when one is
        invalid (too long, too many images), so bisection keeps the valid ones batched.
        """
        try:
            outputs = llm.chat(
                [item.conversation for item in batch],
                sampling_params=[item.sampling_params for item in batch],
                use_tqdm=False,
                mm_processor_kwargs=mm_processor_kwargs,
            )
            return [_to_response(item.sample_id, output) for item, output in zip(batch, outputs, strict=True)]
        except Exception as exc:  # becomes the error of the request(s) that caused it
            if len(batch) == 1:
                return [Response(sample_id=batch[0].sample_id, text="", error=_describe(exc))]
        middle = len(batch) // 2
        first_half = self._chat_isolating_failures(llm, batch[:middle], mm_processor_kwargs)
        return first_half + self._chat_isolating_failures(llm, batch[middle:], mm_processor_kwargs)

    def _vllm_version(self) -> str | None:
        if self._api is not None:
            return self._api.version
        if self._llm_factory is not None:
            return None
        try:  # reads the installed distribution's metadata without importing vllm
            return importlib.metadata.version("vllm")
        except importlib.metadata.PackageNotFoundError:
            return None


def _to_response(sample_id: str, output: Any) -> Response:
    completion = output.outputs[0]
    prompt_ids = getattr(output, "prompt_token_ids", None)
    return Response(
        sample_id=sample_id,
        text=completion.text,
        finish_reason=completion.finish_reason,
        usage=Usage(
            prompt_tokens=len(prompt_ids) if prompt_ids is not None else None,
            completion_tokens=len(completion.token_ids),
        ),
    )


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
