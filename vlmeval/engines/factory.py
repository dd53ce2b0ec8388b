"""ModelSpec -> Engine. Heavy backends are imported only when chosen."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vlmeval.engines.base import Engine
from vlmeval.models.spec import LocalEngine, ModelSpec

EngineChoice = Literal["auto", "vllm", "transformers"]


class EngineUnavailableError(RuntimeError):
    pass


@dataclass(frozen=True)
class ServerOptions:
    base_url: str = "http://localhost:8000/v1"
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 32  # per endpoint
    served_model: str | None = None


@dataclass(frozen=True)
class ParallelOptions:
    """How a local model spreads over devices. None keeps the preset's value."""

    tensor_parallel_size: int | None = None
    pipeline_parallel_size: int | None = None
    # "ray" for a model spread over several nodes (vLLM's Ray executor; start the Ray cluster first).
    distributed_executor_backend: str | None = None
    max_model_len: int | None = None
    # Engines in separate processes on disjoint devices, sharing the items of the run.
    data_parallel: int = 1

    def engine_args(self) -> dict[str, object]:
        chosen = {
            "tensor_parallel_size": self.tensor_parallel_size,
            "pipeline_parallel_size": self.pipeline_parallel_size,
            "distributed_executor_backend": self.distributed_executor_backend,
            "max_model_len": self.max_model_len,
        }
        return {key: value for key, value in chosen.items() if value is not None}


def choose_local_engine(requested: EngineChoice) -> tuple[LocalEngine, str]:
    """The engine for local weights and why: vLLM when it imports and a GPU is present, else transformers."""
    if requested != "auto":
        return requested, "chosen with --engine"
    if importlib.util.find_spec("vllm") is None:
        return "transformers", "auto: vLLM is not installed"
    if not _gpu_present():
        return "transformers", "auto: no NVIDIA GPU found"
    return "vllm", "auto: vLLM is installed and a GPU is present"


def _gpu_present() -> bool:
    """Without importing torch: a visible NVIDIA device node, unless CUDA_VISIBLE_DEVICES hides them all."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return Path("/dev/nvidia0").exists() or Path("/proc/driver/nvidia/gpus").is_dir()


def with_parallelism(spec: ModelSpec, parallel: ParallelOptions) -> ModelSpec:
    """The preset's engine arguments with the command line's parallelism on top (local vLLM only)."""
    overrides = parallel.engine_args()
    if spec.kind != "vllm":
        if overrides or parallel.data_parallel > 1:
            raise EngineUnavailableError(
                f"parallelism options apply to the local vLLM engine, not to {spec.kind}: "
                f"{_PARALLEL_ELSEWHERE[spec.kind]}")
        return spec
    return dataclasses.replace(spec, engine_args={**spec.engine_args, **overrides})


_PARALLEL_ELSEWHERE = {
    "openai": "set them on the server (vllm serve --tensor-parallel-size/--data-parallel-size)",
    "replay": "answers come from a file",
    "transformers": "use the vLLM engine (--engine vllm) for tensor and data parallelism",
}


def devices_per_engine(spec: ModelSpec) -> int:
    args = spec.engine_args
    return int(args.get("tensor_parallel_size", 1)) * int(args.get("pipeline_parallel_size", 1))


def build_engine(spec: ModelSpec, server: ServerOptions, parallel: ParallelOptions | None = None) -> Engine:
    parallel = parallel or ParallelOptions()
    if parallel.data_parallel > 1:
        return _data_parallel(spec, server, parallel)
    if spec.kind == "replay":
        from vlmeval.engines.replay import ReplayEngine

        assert spec.replay_path is not None
        return ReplayEngine(spec.replay_path)
    assert spec.model_id is not None
    if spec.kind == "openai":
        from vlmeval.engines.openai_server import OpenAIServerEngine

        return OpenAIServerEngine(
            model=server.served_model or spec.model_id,
            base_url=list(spec.base_urls) or server.base_url,
            api_key=os.environ.get(server.api_key_env),
            max_concurrency=server.concurrency,
        )
    if spec.kind == "transformers":
        return _transformers(spec)
    if importlib.util.find_spec("vllm") is None:
        raise EngineUnavailableError(
            f"{spec.name} runs on vLLM, which is not installed here: install the GPU extra "
            '(pip install ".[vllm]"), use --engine transformers, or a running server with --model openai:...'
        )
    from vlmeval.engines.vllm_offline import VLLMOfflineEngine

    return VLLMOfflineEngine(model=spec.model_id, engine_args=spec.engine_args)


def _transformers(spec: ModelSpec) -> Engine:
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
        raise EngineUnavailableError(
            f"{spec.name} runs on transformers, which is not installed here: "
            'pip install ".[transformers]" (CPU torch: pip install torch first, from its CPU index)')
    from vlmeval.engines.transformers_local import TransformersEngine

    assert spec.model_id is not None
    return TransformersEngine(model=spec.model_id)


def _data_parallel(spec: ModelSpec, server: ServerOptions, parallel: ParallelOptions) -> Engine:
    if spec.kind != "vllm":
        raise EngineUnavailableError(
            "--data-parallel starts local vLLM engines; for servers list several endpoints "
            "(--model openai:URL1,URL2#model) or start `vllm serve --data-parallel-size N`")
    from vlmeval.engines.data_parallel import DataParallelEngine

    single = dataclasses.replace(parallel, data_parallel=1)
    one_engine = functools.partial(build_engine, spec, server, single)
    try:
        return DataParallelEngine(one_engine, workers=parallel.data_parallel,
                                  devices_per_worker=devices_per_engine(spec),
                                  worker_description=one_engine().describe())
    except ValueError as exc:  # too few devices for workers x (tensor x pipeline parallel)
        raise EngineUnavailableError(str(exc)) from exc
