"""Judge calls against any OpenAI-compatible endpoint: a hosted API or a local `vllm serve`.

A fixed pool of asyncio workers bounds the calls in flight. 429, 5xx, timeouts, dropped connections and
malformed bodies are retried with exponential backoff (at least the server's Retry-After), the same policy as
the server engine; a call that still fails, or fails with another 4xx, becomes that item's error and never
stops the others.
Each reply is handed to `on_reply` as soon as it arrives, so the caller can store it before the next one.
Judges run greedily: temperature 0, and the task's max_tokens.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import openai

from vlmeval.engines.retry import backoff_delay, checked_completion, describe_error, is_retryable

_CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class JudgeCall:
    key: str
    prompt: str


@dataclass(frozen=True)
class JudgeReply:
    key: str
    text: str
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    attempts: int = 1


ReplyHandler = Callable[[JudgeReply], None]


class JudgeClient:
    def __init__(self, model: str, base_url: str, api_key: str | None, max_tokens: int,
                 concurrency: int = 8, max_retries: int = 5, backoff_s: float = 1.0,
                 timeout_s: float = 120.0) -> None:
        if concurrency < 1 or max_retries < 0:
            raise ValueError(f"need concurrency >= 1 and max_retries >= 0, got {concurrency}, {max_retries}")
        self.model = model
        self.base_url = base_url
        # A local server started without --api-key ignores the key, but the client insists on one.
        self._api_key = api_key or "EMPTY"
        self.max_tokens = max_tokens
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self._jitter = random.Random()

    def ask_all(self, calls: Sequence[JudgeCall], on_reply: ReplyHandler) -> None:
        """Ask every call; `on_reply` gets one reply per call, in completion order, in one thread."""
        if not calls:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self._ask_all(calls, on_reply))
            return
        # Called from inside an event loop (a notebook): run ours in a thread of its own.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, self._ask_all(calls, on_reply)).result()

    async def _ask_all(self, calls: Sequence[JudgeCall], on_reply: ReplyHandler) -> None:
        todo = iter(calls)  # shared by the workers; one event loop, so no lock
        timeout = openai.Timeout(self.timeout_s, connect=min(self.timeout_s, _CONNECT_TIMEOUT_S))
        async with openai.AsyncOpenAI(base_url=self.base_url, api_key=self._api_key, max_retries=0,
                                      timeout=timeout) as client:

            async def worker() -> None:
                for call in todo:
                    try:
                        reply = await self._ask(client, call)
                    except Exception as exc:  # a bug in one call must not lose the others
                        reply = JudgeReply(call.key, "", error=describe_error(exc))
                    on_reply(reply)

            await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(calls)))))

    async def _ask(self, client: openai.AsyncOpenAI, call: JudgeCall) -> JudgeReply:
        attempt = 0
        while True:
            try:
                completion = checked_completion(await client.chat.completions.create(
                    model=self.model, messages=[{"role": "user", "content": call.prompt}],
                    temperature=0.0, max_tokens=self.max_tokens))
            except Exception as exc:  # every failure becomes this call's error, after the retries
                if not is_retryable(exc) or attempt >= self.max_retries:
                    return JudgeReply(call.key, "", error=describe_error(exc), attempts=attempt + 1)
                await asyncio.sleep(backoff_delay(self.backoff_s, attempt, exc, self._jitter))
                attempt += 1
                continue
            return _reply(call.key, completion, attempt + 1)


def _reply(key: str, completion: Any, attempts: int) -> JudgeReply:
    usage = getattr(completion, "usage", None)
    prompt_tokens = usage.prompt_tokens if usage else None
    completion_tokens = usage.completion_tokens if usage else None
    if not completion.choices:
        return JudgeReply(key, "", "response has no choices", prompt_tokens, completion_tokens, attempts)
    text = completion.choices[0].message.content or ""
    return JudgeReply(key, text, None, prompt_tokens, completion_tokens, attempts)
