"""A fake OpenAI-compatible chat endpoint for pytest-httpserver that answers the fixture's questions."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from conftest import right_answer
from werkzeug import Request as WerkzeugRequest
from werkzeug import Response as WerkzeugResponse


def completion(content: str) -> dict[str, Any]:
    return {
        "id": "cmpl-1", "object": "chat.completion", "created": 0, "model": "fake",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
    }


class FixtureModel:
    """Answers right except for ids divisible by 5 (found through the question text), after a delay."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, request: WerkzeugRequest) -> WerkzeugResponse:
        body = json.loads(request.get_data())
        with self.lock:
            self.bodies.append(body)
        time.sleep(self.delay_s)
        text = next(p["text"] for p in body["messages"][0]["content"] if p["type"] == "text")
        answer = right_answer(text)
        if int(answer) % 10 == 0:
            answer = "I cannot tell."
        content = f"<think>reasoning</think>The answer is {answer}."
        return WerkzeugResponse(json.dumps(completion(content)), content_type="application/json")
