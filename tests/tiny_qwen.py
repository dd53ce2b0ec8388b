"""Tiny Qwen2-VL and Qwen3-VL model directories with random weights, built locally (no network, no download).

Each directory is a complete Hugging Face model: config.json in the hub's own layout, safetensors weights,
a byte-level BPE tokenizer trained here on a few strings with Qwen's special tokens, a Qwen-format chat
template, the image and video processor configs, and a generation_config.json whose sampling values are
deliberately odd (top_k=1, temperature=0.05) so a test can see that an engine ignores them. The same
directory serves the transformers engine on CPU and a vLLM GPU check with `load_format="dummy"`.

Run as a script to build both: `python tests/tiny_qwen.py OUT_DIR`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                  "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>")
KINDS = ("qwen2-vl", "qwen3-vl")

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if loop.first and message.role != 'system' -%}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{%- endif -%}"
    "<|im_start|>{{ message.role }}\n"
    "{%- if message.content is string -%}{{ message.content }}"
    "{%- else -%}{%- for part in message.content -%}"
    "{%- if part.type == 'image' or 'image' in part -%}<|vision_start|><|image_pad|><|vision_end|>"
    "{%- elif part.type == 'video' or 'video' in part -%}<|vision_start|><|video_pad|><|vision_end|>"
    "{%- elif part.type == 'text' -%}{{ part.text }}"
    "{%- endif -%}{%- endfor -%}{%- endif -%}"
    "<|im_end|>\n"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|im_start|>assistant\n{%- endif -%}"
)

_TRAINING_TEXT = (
    "What is 2 + 2? Answer with a number. The answer is 4.",
    "Please reason step by step, and put your final answer within a box.",
    "Choose the option: A B C D E. Describe the video: what happens in the clip?",
    "user assistant system You are a helpful assistant. seconds 0.5 1.0 2.5",
)

# Hidden sizes chosen so heads are 64 wide (what vLLM's attention kernels accept) yet the model stays tiny.
_TEXT = {"hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 2,
         "num_key_value_heads": 1, "hidden_act": "silu", "rms_norm_eps": 1e-06,
         "max_position_embeddings": 4096, "initializer_range": 0.02, "use_cache": True,
         "attention_dropout": 0.0}
_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def build_tokenizer(directory: Path) -> dict[str, int]:
    """Train a byte-level BPE tokenizer, save it with the chat template; returns the special token ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(_TRAINING_TEXT, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<|im_end|>",
                                      pad_token="<|endoftext|>", bos_token=None, unk_token=None,
                                      model_max_length=4096)
    wrapped.chat_template = CHAT_TEMPLATE
    wrapped.save_pretrained(str(directory))
    # A class name every transformers version knows (5.x writes its own backend's name), and the
    # template inside the config too, where transformers 4.x (vLLM's) looks first.
    config_path = directory / "tokenizer_config.json"
    tokenizer_config = json.loads(config_path.read_text())
    tokenizer_config.update(tokenizer_class="PreTrainedTokenizerFast", chat_template=CHAT_TEMPLATE)
    _write_json(config_path, tokenizer_config)
    (directory / "chat_template.jinja").write_text(CHAT_TEMPLATE)
    ids = {token: tokenizer.token_to_id(token) for token in SPECIAL_TOKENS}
    ids["vocab_size"] = tokenizer.get_vocab_size()
    return ids


def _token_fields(ids: dict[str, int]) -> dict[str, int]:
    return {"image_token_id": ids["<|image_pad|>"], "video_token_id": ids["<|video_pad|>"],
            "vision_start_token_id": ids["<|vision_start|>"], "vision_end_token_id": ids["<|vision_end|>"]}


def qwen2_vl_config(ids: dict[str, int]) -> dict[str, Any]:
    """Qwen2-VL's hub layout: text fields at the top level, mrope in rope_scaling."""
    return {
        "architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl", **_TEXT,
        "vocab_size": ids["vocab_size"], "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "vision_token_id": ids["<|vision_pad|>"], **_token_fields(ids), "rope_theta": 1000000.0,
        "rope_scaling": {"type": "mrope", "mrope_section": [8, 12, 12]}, "max_window_layers": 2,
        "sliding_window": 4096, "use_sliding_window": False, "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "vision_config": {"depth": 1, "embed_dim": 64, "mlp_ratio": 2, "num_heads": 1, "in_chans": 3,
                          "hidden_size": _TEXT["hidden_size"], "patch_size": 14, "spatial_merge_size": 2,
                          "spatial_patch_size": 14, "temporal_patch_size": 2},
    }


def qwen3_vl_config(ids: dict[str, int]) -> dict[str, Any]:
    """Qwen3-VL's hub layout: nested text_config with interleaved mrope, deepstack vision tower."""
    text = {**_TEXT, "model_type": "qwen3_vl_text", "vocab_size": ids["vocab_size"], "head_dim": 64,
            "attention_bias": False, "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"],
            "rope_scaling": {"mrope_interleaved": True, "mrope_section": [12, 10, 10],
                             "rope_type": "default"},
            "rope_theta": 5000000, "tie_word_embeddings": True, "dtype": "float32"}
    return {
        "architectures": ["Qwen3VLForConditionalGeneration"], "model_type": "qwen3_vl", **_token_fields(ids),
        "tie_word_embeddings": True, "text_config": text,
        "vision_config": {"model_type": "qwen3_vl", "depth": 2, "deepstack_visual_indexes": [0],
                          "hidden_act": "gelu_pytorch_tanh", "hidden_size": 64, "intermediate_size": 128,
                          "in_channels": 3, "initializer_range": 0.02, "num_heads": 1,
                          "num_position_embeddings": 64, "out_hidden_size": _TEXT["hidden_size"],
                          "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2},
    }


def processor_configs(kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(preprocessor_config.json, video_preprocessor_config.json) with the real models' values."""
    if kind == "qwen2-vl":
        processor = "Qwen2VLProcessor"
        common: dict[str, Any] = {"patch_size": 14, "temporal_patch_size": 2, "merge_size": 2,
                                  "image_mean": _CLIP_MEAN, "image_std": _CLIP_STD,
                                  "processor_class": processor}
        image = {**common, "min_pixels": 3136, "max_pixels": 12845056,
                 "size": {"shortest_edge": 3136, "longest_edge": 12845056},
                 "image_processor_type": "Qwen2VLImageProcessor"}
        video = {**common, "size": {"shortest_edge": 128 * 28 * 28, "longest_edge": 768 * 28 * 28},
                 "video_processor_type": "Qwen2VLVideoProcessor", "do_sample_frames": False,
                 "cap_pixels_per_frame": False}
        return image, video
    processor = "Qwen3VLProcessor"
    common = {"patch_size": 16, "temporal_patch_size": 2, "merge_size": 2, "image_mean": [0.5, 0.5, 0.5],
              "image_std": [0.5, 0.5, 0.5], "processor_class": processor}
    image = {**common, "size": {"shortest_edge": 65536, "longest_edge": 16777216},
             "image_processor_type": "Qwen2VLImageProcessor"}
    video = {**common, "size": {"shortest_edge": 4096, "longest_edge": 25165824},
             "video_processor_type": "Qwen3VLVideoProcessor", "cap_pixels_per_frame": False}
    return image, video


def _write_json(path: Path, value: dict[str, Any]) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")


def build_tiny_model(kind: str, directory: Path) -> Path:
    """Write a complete tiny `kind` model ("qwen2-vl" or "qwen3-vl") into `directory`; returns it."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    if kind not in KINDS:
        raise ValueError(f"unknown tiny model kind {kind!r}: one of {', '.join(KINDS)}")
    directory.mkdir(parents=True, exist_ok=True)
    ids = build_tokenizer(directory)
    config = qwen2_vl_config(ids) if kind == "qwen2-vl" else qwen3_vl_config(ids)
    _write_json(directory / "config.json", config)
    torch.manual_seed(0)
    model = AutoModelForImageTextToText.from_config(AutoConfig.from_pretrained(str(directory)))
    model.save_pretrained(str(directory), safe_serialization=True)
    # save_pretrained rewrites config.json in the installed transformers' layout; keep the hub's own.
    _write_json(directory / "config.json", config)
    image, video = processor_configs(kind)
    _write_json(directory / "preprocessor_config.json", image)
    _write_json(directory / "video_preprocessor_config.json", video)
    stop_ids = [ids["<|im_end|>"], ids["<|endoftext|>"]]
    _write_json(directory / "generation_config.json", {
        "bos_token_id": ids["<|endoftext|>"], "eos_token_id": stop_ids, "pad_token_id": ids["<|endoftext|>"],
        "do_sample": True, "top_k": 1, "top_p": 0.01, "temperature": 0.05, "repetition_penalty": 1.5})
    return directory


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/tiny_qwen.py OUT_DIR", file=sys.stderr)
        return 2
    for kind in KINDS:
        print(build_tiny_model(kind, Path(argv[0]) / kind))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
