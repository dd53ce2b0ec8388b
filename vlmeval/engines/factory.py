"""ModelSpec -> Engine. Heavy backends are imported only when chosen."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

from vlmeval.engines.base import Engine
from vlmeval.models.spec import ModelSpec


class EngineUnavailableError(RuntimeError):
    pass


@dataclass(frozen=True)
class ServerOptions:
    base_url: str = "http://localhost:8000/v1"
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 32
    served_model: str | None = None


def build_engine(spec: ModelSpec, server: ServerOptions) -> Engine:
    if spec.kind == "replay":
        from vlmeval.engines.replay import ReplayEngine

        assert spec.replay_path is not None
        return ReplayEngine(spec.replay_path)
    assert spec.model_id is not None
    if spec.kind == "openai":
        from vlmeval.engines.openai_server import OpenAIServerEngine

        return OpenAIServerEngine(
            model=server.served_model or spec.model_id,
            base_url=server.base_url,
            api_key=os.environ.get(server.api_key_env),
            max_concurrency=server.concurrency,
        )
    if importlib.util.find_spec("vllm") is None:
        raise EngineUnavailableError(
            f"{spec.name} runs on vLLM, which is not installed here: install the GPU extra "
            '(pip install ".[vllm]") or use a running server with --model openai:...'
        )
    from vlmeval.engines.vllm_offline import VLLMOfflineEngine

    return VLLMOfflineEngine(model=spec.model_id, engine_args=spec.engine_args)
