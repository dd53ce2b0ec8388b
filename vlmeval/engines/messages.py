"""Our messages as chat-API dicts, parts in their original order; each engine chooses the image part."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from vlmeval.types import ImageRef, Message, TextPart

ImagePartBuilder = Callable[[ImageRef], dict[str, Any]]


def chat_dicts(messages: Sequence[Message], image_part: ImagePartBuilder) -> list[dict[str, Any]]:
    converted: list[dict[str, Any]] = []
    for message in messages:
        parts = [
            {"type": "text", "text": part.text} if isinstance(part, TextPart) else image_part(part.image)
            for part in message.content
        ]
        converted.append({"role": message.role, "content": parts})
    return converted
