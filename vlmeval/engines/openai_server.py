"""Engine for `vllm serve` or any OpenAI-compatible chat endpoint, or several serving the same model.

An asyncio loop in a background thread keeps up to `max_concurrency` requests in flight per endpoint and
hands each response to the synchronous caller through a queue as soon as it completes, so one slow
request never holds back the others. Retries are ours (the client's own are off; the policy is in
`retry`). With several endpoints, each pulls work from one shared queue at its own pace, and one that keeps
failing is taken out of rotation, its requests answered by the others (`endpoints`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Coroutine, Generator, Sequence
from dataclasses import dataclass
from typing import Any

import openai

from vlmeval.engines.endpoints import Endpoint, EndpointPool, answer_all
from vlmeval.engines.messages import UnsupportedMediaError, chat_dicts, videos_of
from vlmeval.engines.retry import (
    MAX_BACKOFF_S,
    MalformedResponseError,
    backoff_delay,
    checked_completion,
    describe_error,
    is_endpoint_fault,
    is_retryable,
    retry_after_s,
)
from vlmeval.media.images import to_data_url
from vlmeval.types import Message, Request, Response, Usage
from vlmeval.video.frames import jpeg_frames_url, load_frames, video_metadata

__all__ = [  # the retry helpers moved to `retry`; older imports from here keep working
    "MAX_BACKOFF_S",
    "MalformedResponseError",
    "OpenAIServerEngine",
    "chat_messages",
    "checked_completion",
    "describe_error",
    "is_retryable",
    "request_body",
    "retry_after_s",
    "video_request_fields",
]

CONNECT_TIMEOUT_S = 10.0
_THREAD_JOIN_S = 5.0


@dataclass(frozen=True)
class _Finished:
    """Queue marker: the background loop is done; `error` is set if it died before answering all."""

    error: str | None = None


def chat_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Our messages in OpenAI chat format, parts in their original order, images as data URLs, videos as
    the frames the harness sampled (`data:video/jpeg;base64,<jpg>,<jpg>,...`, vLLM's form for them)."""
    return chat_dicts(
        messages,
        lambda image: {"type": "image_url", "image_url": {"url": to_data_url(image)}},
        lambda video: {"type": "video_url", "video_url": {"url": jpeg_frames_url(load_frames(video))}},
    )


def video_request_fields(request: Request) -> dict[str, Any]:
    """`extra_body` fields that tell vLLM's server where the sampled frames sit in time (it rebuilds the
    Qwen3-VL timestamps from them) and not to sample again. Per request, so one video per request."""
    videos = videos_of(request.messages)
    if not videos:
        return {}
    if len(videos) > 1:
        raise UnsupportedMediaError("the server path sends one video per request (media_io_kwargs)")
    metadata = video_metadata(videos[0])
    media_io = {key: metadata[key] for key in ("fps", "frames_indices", "total_num_frames", "duration")}
    return {"media_io_kwargs": {"video": media_io}, "mm_processor_kwargs": {"do_sample_frames": False}}


def request_body(request: Request) -> dict[str, Any]:
    """Keyword arguments for `chat.completions.create`: every sampling field that is set, explicitly.

    Fields the OpenAI schema lacks go in `extra_body`, which the client merges into the top-level
    JSON, where vLLM's server reads them.
    """
    sampling = request.sampling
    body: dict[str, Any] = {"max_tokens": sampling.max_tokens}
    standard = {
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "presence_penalty": sampling.presence_penalty,
    }
    extra: dict[str, Any] = {
        "top_k": sampling.top_k,
        "repetition_penalty": sampling.repetition_penalty,
        "seed": sampling.seed,
    }
    body.update({key: value for key, value in standard.items() if value is not None})
    extra = {key: value for key, value in extra.items() if value is not None}
    limits = request.media_limits.as_dict()
    if limits:
        extra["mm_processor_kwargs"] = limits
    video_fields = video_request_fields(request)
    if video_fields:
        extra["media_io_kwargs"] = video_fields["media_io_kwargs"]
        extra["mm_processor_kwargs"] = {**extra.get("mm_processor_kwargs", {}),
                                        **video_fields["mm_processor_kwargs"]}
    if extra:
        body["extra_body"] = extra
    return body


class OpenAIServerEngine:
    """Chat completions against one or several OpenAI-compatible servers, with bounded concurrency per
    server, retries, and failover from a server that keeps failing to the others (see `endpoints`).

    `latency_s` is the duration of the attempt that succeeded, not counting earlier failed tries
    or backoff sleeps.
    """

    name = "openai-server"

    def __init__(
        self,
        model: str,
        base_url: str | Sequence[str],
        api_key: str | None = None,
        max_concurrency: int = 16,
        max_retries: int = 5,
        timeout_s: float = 900.0,
        backoff_s: float = 1.0,
        eject_after_failures: int = 3,
    ) -> None:
        base_urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not base_urls or len(set(base_urls)) != len(base_urls):
            raise ValueError(f"need at least one base_url and no repeats, got {base_urls}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        if max_retries < 0:
            raise ValueError(f"max_retries must not be negative, got {max_retries}")
        if eject_after_failures < 1:
            raise ValueError(f"eject_after_failures must be at least 1, got {eject_after_failures}")
        self.model = model
        self.base_urls = base_urls
        self.base_url = base_urls[0]
        # vLLM ignores the key unless started with --api-key, but the client insists on having one.
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.max_concurrency = max_concurrency  # per endpoint
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self.eject_after_failures = eject_after_failures
        self._jitter = random.Random()
        self._last_pool: EndpointPool | None = None

    def describe(self) -> dict[str, Any]:
        """The settings; with several endpoints also their list, and after a run each one's standing.
        One endpoint reads exactly as before failover existed, so older manifests compare equal."""
        description: dict[str, Any] = {
            "engine": self.name,
            "model": self.model,
            "base_url": self.base_url,
            "max_concurrency": self.max_concurrency,
            "max_retries": self.max_retries,
            "timeout_s": self.timeout_s,
            "backoff_s": self.backoff_s,
        }
        if len(self.base_urls) > 1:
            description["base_urls"] = list(self.base_urls)
            description["eject_after_failures"] = self.eject_after_failures
        if self._last_pool is not None:
            description["endpoints"] = self._last_pool.summary()
        return description

    def generate(self, requests: Sequence[Request]) -> Generator[Response, None, None]:
        """Yield one Response per request as each completes; closing early cancels the rest."""
        if not requests:
            return
        results: queue.Queue[Response | _Finished] = queue.Queue()
        background = _LoopThread(self._answer_all(requests, results), results)
        background.start()
        pending = Counter(request.sample_id for request in requests)
        try:
            while True:
                item = results.get()
                if isinstance(item, _Finished):
                    break
                pending[item.sample_id] -= 1
                yield item
            # Only a crash of the loop itself leaves requests unanswered; they still get a Response.
            for sample_id in pending.elements():
                yield Response(sample_id=sample_id, text="", error=item.error or "engine stopped early")
        finally:
            background.cancel()  # a no-op once finished; on early close it cancels every in-flight request
            background.join(_THREAD_JOIN_S)

    async def _answer_all(self, requests: Sequence[Request], results: queue.Queue[Any]) -> None:
        pool = self._last_pool = EndpointPool(self.base_urls, self.eject_after_failures)
        async with contextlib.AsyncExitStack() as stack:
            clients = {url: await stack.enter_async_context(self._client(url)) for url in self.base_urls}

            async def answer_on(endpoint: Endpoint, request: Request) -> Response | None:
                return await self._answer(pool, endpoint, clients[endpoint.base_url], request)

            # A fixed pool of workers per endpoint bounds its concurrency like a semaphore would, without
            # creating a task per request up front for runs of many thousands of items.
            workers_each = min(self.max_concurrency, len(requests))
            await answer_all(pool, requests, workers_each, answer_on, results.put)

    def _client(self, base_url: str) -> openai.AsyncOpenAI:
        # A short connect timeout: an unreachable host should cost seconds per try, not timeout_s.
        timeout = openai.Timeout(self.timeout_s, connect=min(self.timeout_s, CONNECT_TIMEOUT_S))
        return openai.AsyncOpenAI(base_url=base_url, api_key=self._api_key, max_retries=0, timeout=timeout)

    async def _answer(self, pool: EndpointPool, endpoint: Endpoint, client: openai.AsyncOpenAI,
                      request: Request) -> Response | None:
        """The request's answer or final error from this endpoint; None when a failure ejected it."""
        prepared = await _prepared(request)
        if isinstance(prepared, Response):
            return prepared
        messages, body = prepared
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                completion = checked_completion(
                    await client.chat.completions.create(model=self.model, messages=messages, **body))
            except Exception as exc:  # every failure becomes this request's error
                if is_endpoint_fault(exc) and pool.record_fault(endpoint, describe_error(exc)):
                    return None
                if not is_retryable(exc) or attempt >= self.max_retries:
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    return Response(sample_id=request.sample_id, text="", error=describe_error(exc) + tries)
                await asyncio.sleep(backoff_delay(self.backoff_s, attempt, exc, self._jitter))
                attempt += 1
                continue
            pool.record_success(endpoint)
            return _to_response(request.sample_id, completion, time.perf_counter() - started)


async def _prepared(request: Request) -> tuple[Any, dict[str, Any]] | Response:
    """The request's chat messages and body, or its error when its media cannot be sent."""
    try:
        # File reads and base64 of large images stay off the event loop.
        messages: Any = await asyncio.to_thread(chat_messages, request.messages)
        return messages, request_body(request)
    except UnsupportedMediaError as exc:
        return Response(sample_id=request.sample_id, text="", error=str(exc))
    except (OSError, ValueError) as exc:
        return Response(sample_id=request.sample_id, text="", error=f"unreadable media: {exc}")


def _to_response(sample_id: str, completion: Any, latency_s: float) -> Response:
    if not completion.choices:
        return Response(sample_id=sample_id, text="", latency_s=latency_s, error="response has no choices")
    choice = completion.choices[0]
    usage = completion.usage
    return Response(
        sample_id=sample_id,
        text=choice.message.content or "",
        finish_reason=choice.finish_reason,
        usage=Usage(
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
        ),
        latency_s=latency_s,
    )


class _LoopThread:
    """Runs one coroutine on a private event loop in a daemon thread, then puts `_Finished` on the queue.

    Daemon, so that an interpreter exiting while a request hangs is never held up by this thread.
    """

    def __init__(self, coroutine: Coroutine[Any, Any, None], results: queue.Queue[Any]) -> None:
        self._loop = asyncio.new_event_loop()
        self._task = self._loop.create_task(coroutine)  # runs once the thread starts the loop
        self._results = results
        self._thread = threading.Thread(target=self._run, name="vlmeval-openai", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        with contextlib.suppress(RuntimeError):  # raised when the loop has already finished and closed
            self._loop.call_soon_threadsafe(self._task.cancel)

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    def _run(self) -> None:
        error: str | None = None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            error = "cancelled"
        except Exception as exc:  # reported to the consumer as the unanswered requests' error
            error = describe_error(exc)
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
            self._loop.close()
            self._results.put(_Finished(error=error))
