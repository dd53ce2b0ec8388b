"""A minimal keep-alive HTTP/1.1 endpoint on asyncio for the benches: no framework, so the fake server adds
no queueing or parsing cost of its own to what a bench measures."""

from __future__ import annotations

import asyncio
import json

# One short chat completion, what every fake endpoint answers.
ANSWER = json.dumps({
    "id": "cmpl-bench", "object": "chat.completion", "created": 0, "model": "fake",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "The answer is 4."},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
}).encode()


class FakeHttpEndpoint:
    """Reads each request (head and body), answers with `respond(request_line)`'s (status, JSON body)."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                fields = (line.partition(":") for line in header_lines)
                headers = {key.strip().lower(): value.strip() for key, _, value in fields}
                await reader.readexactly(int(headers.get("content-length", "0")))
                status, body = await self.respond(request_line)
                writer.write(b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                             % (status, len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def respond(self, request_line: str) -> tuple[bytes, bytes]:
        raise NotImplementedError
