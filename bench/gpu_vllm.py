"""The harness's vLLM engine against bare vLLM on one GPU: the same requests, the same LLM, side by side.

    python bench/gpu_vllm.py [--items 512] [--max-tokens 64] [--rounds 2] [--load-format dummy]

Needs a CUDA GPU, torch, transformers and vLLM; nothing is downloaded. The script builds the test suite's
tiny Qwen2-VL or Qwen3-VL (`--kind`; tests/tiny_qwen.py: a small config, random weights, a locally trained
BPE tokenizer with Qwen's special tokens, our chat template, the processor configs) and loads it in vLLM once
(`--load-format dummy` by default: vLLM fills the weights itself; `auto` reads the saved ones). Both paths
share that one `LLM`, so the ratio is the harness's own cost:

- harness: the MathVision fixture rendered by the real task (`build_requests`) and answered by
  `VLLMOfflineEngine.generate` (image decoding, chat parts, SamplingParams, one `chat` call per
  media-limits group);
- bare: the same prompts and image files, decoded with PIL and handed to `LLM.chat` directly.

Greedy decoding on the same weights gives both the same tokens; throughput is output tokens per second of
wall time. GPU utilisation is `nvidia-smi` sampled every 100 ms during each pass. Target: harness / bare
>= 0.97. Rounds alternate (bare, harness, bare, ...) after a warm-up, so neither path gets a warm cache
the other lacks.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from tiny_qwen import KINDS, build_tiny_model  # noqa: E402  (the test suite's tiny model, after the path)


def missing_requirements() -> str | None:
    """Why this machine cannot run the bench, or None when it can."""
    absent = [name for name in ("torch", "transformers", "tokenizers", "vllm")
              if importlib.util.find_spec(name) is None]
    if absent:
        return f"{', '.join(absent)} not installed (pip install '.[vllm]' on a GPU host)"
    import torch

    if not torch.cuda.is_available():
        return "torch sees no CUDA GPU"
    if shutil.which("nvidia-smi") is None:
        return "nvidia-smi is not on PATH (needed to sample GPU utilisation)"
    return None


@contextmanager
def gpu_sampler(samples: list[float]) -> Iterator[None]:
    """Append nvidia-smi's utilisation.gpu (percent, GPU 0) every 100 ms while the block runs."""
    process = subprocess.Popen(
        ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", "-lms", "100",
         "-i", "0"], stdout=subprocess.PIPE, text=True)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip().isdigit():
                samples.append(float(line))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield
    finally:
        process.terminate()
        process.wait(10)
        reader.join(5)


def fixture_requests(items: int, scratch: Path, model_dir: Path, max_tokens: int) -> list[Any]:
    """The harness's own requests: MathVision fixture items rendered by the real task, greedy sampling."""
    import datasets
    from conftest import mathvision_rows, write_hub_parquet

    from vlmeval.runner import RunOptions, build_requests, prepare

    datasets.disable_progress_bars()
    write_hub_parquet(scratch / "mathvision", "test", mathvision_rows(items))
    options = RunOptions(task="mathvision", model=str(model_dir), data_dir=scratch / "mathvision",
                         output_dir=scratch / "results", show_progress=False, engine="vllm",
                         sampling_overrides={"max_tokens": max_tokens, "temperature": 0.0, "seed": 0})
    prepared = prepare(options)
    return build_requests(prepared, prepared.samples)


def bare_pass(llm: Any, requests: list[Any], vllm: Any) -> list[str]:
    """What a user of vLLM writes: decode each image with PIL, build the chat dicts, one `chat` call."""
    from PIL import Image

    from vlmeval.types import ImagePart, TextPart

    conversations = []
    for request in requests:
        parts: list[dict[str, Any]] = []
        for part in request.messages[0].content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            elif isinstance(part, ImagePart):
                source = part.image.path or io.BytesIO(part.image.data or b"")
                parts.append({"type": "image_pil", "image_pil": Image.open(source).convert("RGB")})
        conversations.append([{"role": "user", "content": parts}])
    params = vllm.SamplingParams(max_tokens=requests[0].sampling.max_tokens, temperature=0.0, seed=0)
    outputs = llm.chat(conversations, sampling_params=params, use_tqdm=False,
                       mm_processor_kwargs=requests[0].media_limits.as_dict() or None)
    return [output.outputs[0].text for output in outputs]


def harness_pass(engine: Any, requests: list[Any]) -> list[str]:
    answers = {response.sample_id: response for response in engine.generate(requests)}
    failed = [r for r in answers.values() if r.error]
    if failed:
        raise SystemExit(f"gpu_vllm: the harness engine failed {len(failed)} items: {failed[0].error}")
    return [answers[request.sample_id].text for request in requests]


def timed_pass(label: str, run_pass: Callable[[], list[str]], tokenizer: Any) -> dict[str, Any]:
    utilisation: list[float] = []
    with gpu_sampler(utilisation):
        started = time.perf_counter()
        texts = run_pass()
        wall = time.perf_counter() - started
    tokens = sum(len(tokenizer.encode(text, add_special_tokens=False)) for text in texts)
    mean_util = sum(utilisation) / len(utilisation) if utilisation else float("nan")
    print(f"  {label:8s} {len(texts):6d} {tokens:8d} {wall:8.3f} {tokens / wall:10.0f} "
          f"{len(texts) / wall:8.1f} {mean_util:9.1f}")
    return {"label": label, "texts": texts, "tokens": tokens, "wall": wall, "util": mean_util}


def load_llm(model_dir: Path, load_format: str) -> tuple[Any, Any]:
    import vllm

    llm = vllm.LLM(model=str(model_dir), load_format=load_format, generation_config="vllm",
                   max_model_len=8192, limit_mm_per_prompt={"image": 1}, gpu_memory_utilization=0.5,
                   seed=0)
    return vllm, llm


def compare(args: argparse.Namespace, scratch: Path) -> None:
    from vlmeval.engines.vllm_offline import VLLMApi, VLLMOfflineEngine

    model_dir = build_tiny_model(args.kind, scratch / f"tiny-{args.kind}")
    requests = fixture_requests(args.items, scratch, model_dir, args.max_tokens)
    vllm, llm = load_llm(model_dir, args.load_format)
    shared = VLLMApi(llm_class=lambda **_: llm, sampling_params_class=vllm.SamplingParams,
                     version=getattr(vllm, "__version__", None))
    engine = VLLMOfflineEngine(str(model_dir), llm_factory=lambda: shared)
    tokenizer = llm.get_tokenizer()
    bare_pass(llm, requests[:16], vllm)  # warm-up: CUDA graphs, processor caches
    harness_pass(engine, requests[:16])
    print(f"{len(requests)} MathVision fixture requests, greedy, max_tokens {args.max_tokens}, "
          f"vLLM {getattr(vllm, '__version__', '?')}, load_format {args.load_format}")
    print(f"  {'path':8s} {'items':>6} {'tokens':>8} {'wall s':>8} {'tokens/s':>10} {'items/s':>8} "
          f"{'GPU util%':>9}")
    results: dict[str, list[dict[str, Any]]] = {"bare": [], "harness": []}
    for _ in range(args.rounds):
        results["bare"].append(timed_pass("bare", lambda: bare_pass(llm, requests, vllm), tokenizer))
        results["harness"].append(timed_pass("harness", lambda: harness_pass(engine, requests), tokenizer))
    report(results)


def report(results: dict[str, list[dict[str, Any]]]) -> None:
    def throughput(label: str) -> float:
        runs = results[label]
        return sum(r["tokens"] for r in runs) / sum(r["wall"] for r in runs)

    same = sum(a == b for a, b in zip(results["bare"][0]["texts"], results["harness"][0]["texts"],
                                      strict=True))
    ratio = throughput("harness") / throughput("bare")
    print(f"  identical answers (bare vs harness, round 1): {same}/{len(results['bare'][0]['texts'])}")
    verdict = "PASS" if ratio >= 0.97 else "FAIL"
    print(f"  throughput ratio harness / bare: {ratio:.3f} (target >= 0.97): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=512)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--load-format", default="dummy", choices=["dummy", "auto"])
    parser.add_argument("--kind", default="qwen2-vl", choices=list(KINDS))
    parser.add_argument("--build-only", type=Path, default=None,
                        help="only build the tiny model into this folder (needs torch and transformers)")
    args = parser.parse_args()
    if args.build_only is not None:
        args.build_only.mkdir(parents=True, exist_ok=True)
        print(build_tiny_model(args.kind, args.build_only))
        return
    problem = missing_requirements()
    if problem is not None:
        print(f"gpu_vllm: not run: {problem}", file=sys.stderr)
        raise SystemExit(2)
    with tempfile.TemporaryDirectory() as scratch:
        compare(args, Path(scratch))


if __name__ == "__main__":
    main()
