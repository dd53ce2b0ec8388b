"""Which failures of an OpenAI-compatible endpoint are worth another try, and how long to wait first.

Shared by the server engine and the judge client: 429, 5xx, timeouts, connection errors (a body cut short)
and bodies that are not a chat completion (malformed JSON, a proxy's HTML page) are retried with
exponential backoff and jitter, never sooner than the server's Retry-After; any other 4xx is final.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from typing import Any

import openai

MAX_BACKOFF_S = 60.0


class MalformedResponseError(ValueError):
    """A successful status whose body is not a chat completion (a proxy's HTML page, a JSON list)."""


def checked_completion(completion: Any) -> Any:
    """The client returns a non-JSON body as a plain string: that is a malformed reply, not an answer."""
    if not hasattr(completion, "choices"):
        raise MalformedResponseError(f"response is not a chat completion: {str(completion)[:80]!r}")
    return completion


def is_retryable(error: Exception) -> bool:
    """429, 5xx, timeouts, dropped connections and malformed bodies are worth another try; other failures
    are final."""
    if isinstance(error, openai.APIConnectionError | json.JSONDecodeError | MalformedResponseError):
        return True  # APIConnectionError includes APITimeoutError and a body cut short
    if isinstance(error, openai.APIStatusError):
        return error.status_code == 429 or error.status_code >= 500
    return False


def is_endpoint_fault(error: Exception) -> bool:
    """A failure that says the endpoint itself is unwell: retryable, but not a 429, which only says it is
    busy (the server is up and answering; waiting is the cure, not going elsewhere)."""
    if isinstance(error, openai.APIStatusError) and error.status_code == 429:
        return False
    return is_retryable(error)


def describe_error(error: Exception) -> str:
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code}: {error.message}"
    if isinstance(error, json.JSONDecodeError):
        return f"malformed response body: {error}"
    return f"{type(error).__name__}: {error}"


def retry_after_s(error: Exception) -> float | None:
    """The server's Retry-After (seconds or HTTP date), when a status error carries one."""
    if not isinstance(error, openai.APIStatusError):
        return None
    value = error.response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(backoff_s: float, attempt: int, error: Exception, jitter: random.Random) -> float:
    """Exponential backoff with jitter for the `attempt`-th retry (from 0), never shorter than the server's
    Retry-After, never longer than MAX_BACKOFF_S."""
    delay = backoff_s * 2.0**attempt * jitter.uniform(0.5, 1.5)
    hint = retry_after_s(error)
    if hint is not None:
        delay = max(delay, hint)
    return min(delay, MAX_BACKOFF_S)
