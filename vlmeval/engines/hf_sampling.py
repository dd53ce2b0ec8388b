"""Our `Sampling` as a transformers GenerationConfig plus logits processors, with vLLM's semantics.

transformers fills every field a GenerationConfig leaves None from the model's generation_config.json and
then from its global defaults (top_k=50 among them). So every field that shapes the distribution is set
here explicitly, and the engine also replaces the model's own generation config by a bare one (stop and
pad ids only), as vLLM's `generation_config="vllm"` ignores the file.

The mapping (also in `SAMPLING_NOTES`, which `describe()` reports):
- temperature: 0 -> greedy (do_sample=False); None -> 1.0 sampled, vLLM's neutral value; else sampled.
- top_p None -> 1.0; top_k None, 0 or -1 -> 0 (transformers adds no top-k filter for 0).
- repetition_penalty and presence_penalty are applied by `VLLMPenalties`, a logits processor doing what
  vLLM does: repetition divides positive logits and multiplies negative ones of every token seen in the
  prompt or the output so far; presence subtracts the penalty from the logits of tokens already
  GENERATED in this sequence. transformers' own repetition penalty is left at 1.0 because it would also
  count the left padding of a batched prompt.
- seed: torch's global generator is seeded before each batch; a batch only holds requests with equal
  sampling, so equal seeds, but a seed then fixes the batch's draw, not each request's on its own.
"""

from __future__ import annotations

from typing import Any

from vlmeval.types import Sampling

SAMPLING_NOTES: dict[str, str] = {
    "temperature": "0 -> greedy (do_sample=False); None -> 1.0, sampled (vLLM's neutral value)",
    "top_p": "None -> 1.0",
    "top_k": "None, 0 or -1 -> 0 (no top-k filter; transformers' default 50 is never used)",
    "repetition_penalty": "vLLM semantics in a logits processor: prompt and output tokens, padding excluded",
    "presence_penalty": "vLLM semantics in a logits processor: logits of generated tokens minus the penalty",
    "seed": "torch.manual_seed before each batch; batches hold equal sampling, so not separable per request",
    "generation_config.json": "ignored: the model's generation config is replaced by stop/pad ids only",
}


def is_greedy(sampling: Sampling) -> bool:
    return sampling.temperature == 0


def generation_fields(sampling: Sampling) -> dict[str, Any]:
    """Keyword arguments for GenerationConfig: every distribution-shaping field set, none left to defaults."""
    top_k = sampling.top_k if sampling.top_k is not None and sampling.top_k > 0 else 0
    greedy = is_greedy(sampling)
    return {
        "max_new_tokens": sampling.max_tokens,
        "min_new_tokens": 0,
        "do_sample": not greedy,
        "temperature": 1.0 if greedy or sampling.temperature is None else sampling.temperature,
        "top_p": 1.0 if sampling.top_p is None else sampling.top_p,
        "top_k": top_k,
        "min_p": None,
        "typical_p": 1.0,
        "repetition_penalty": 1.0,
        "no_repeat_ngram_size": 0,
        "num_beams": 1,
        "num_return_sequences": 1,
        "length_penalty": 1.0,
        "use_cache": True,
    }


def penalty_values(sampling: Sampling) -> tuple[float, float]:
    """(repetition, presence) with None -> the neutral value."""
    repetition = 1.0 if sampling.repetition_penalty is None else sampling.repetition_penalty
    presence = 0.0 if sampling.presence_penalty is None else sampling.presence_penalty
    if repetition <= 0:
        raise ValueError(f"repetition_penalty must be > 0, got {repetition}")
    return repetition, presence


def build_generation_config(sampling: Sampling, stop_ids: list[int], pad_id: int | None) -> Any:
    from transformers import GenerationConfig

    return GenerationConfig(**generation_fields(sampling), eos_token_id=stop_ids, pad_token_id=pad_id)


def vllm_penalties(sampling: Sampling, pad_lengths: list[int], prompt_length: int) -> Any | None:
    """The logits processor for the request's penalties, or None when both are neutral.

    `pad_lengths` are the left-padding tokens of each row; `prompt_length` the padded prompt width, after
    which every column is generated.
    """
    repetition, presence = penalty_values(sampling)
    if repetition == 1.0 and presence == 0.0:
        return None
    return _penalties_class()(repetition, presence, pad_lengths, prompt_length)


_CLASS: Any = None


def _penalties_class() -> Any:
    global _CLASS
    if _CLASS is None:
        _CLASS = _define_penalties()
    return _CLASS


def _define_penalties() -> Any:
    """Defined on first use so that importing this module imports neither torch nor transformers."""
    import torch
    from transformers import LogitsProcessor

    processor_base: Any = LogitsProcessor

    class VLLMPenalties(processor_base):
        def __init__(self, repetition: float, presence: float, pad_lengths: list[int],
                     prompt_length: int) -> None:
            self.repetition = repetition
            self.presence = presence
            self.pad_lengths = list(pad_lengths)
            self.prompt_length = prompt_length

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            width = input_ids.shape[1]
            columns = torch.arange(width, device=input_ids.device).unsqueeze(0)
            pads = torch.tensor(self.pad_lengths, device=input_ids.device).unsqueeze(1)
            real = columns >= pads
            generated = columns >= self.prompt_length
            scores = scores.clone()
            if self.repetition != 1.0:
                seen = _mask(input_ids, real, scores)
                penalised = torch.where(scores > 0, scores / self.repetition, scores * self.repetition)
                scores = torch.where(seen, penalised, scores)
            if self.presence != 0.0:
                scores = scores - self.presence * _mask(input_ids, generated, scores).to(scores.dtype)
            return scores

    def _mask(input_ids: Any, keep: Any, scores: Any) -> Any:
        """(rows, vocab) True where the token occurs in the row's kept columns."""
        counts = torch.zeros(scores.shape, dtype=torch.long, device=scores.device)
        ids = input_ids.clamp(0, scores.shape[-1] - 1)
        return counts.scatter_add_(1, ids, keep.expand_as(ids).to(torch.long)) > 0

    return VLLMPenalties
