"""The run directory: results/<run-id>/ with manifest.json, responses.jsonl, scores.jsonl, metrics.json.

responses.jsonl is append-only and flushed after every line, so a run killed at any moment keeps every
answer it had received; a torn last line (killed mid-write) is ignored on read.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from vlmeval.types import Response, Usage


class RunNotFoundError(FileNotFoundError):
    pass


class ExportError(ValueError):
    """A run cannot be exported the way asked (e.g. a submission file for a task that has none)."""


def response_record(response: Response, engine: str | None = None) -> dict[str, Any]:
    """One line of responses.jsonl; `engine` names what produced the answer (runs may resume elsewhere)."""
    return {
        "id": response.sample_id,
        "text": response.text,
        "finish_reason": response.finish_reason,
        "usage": asdict(response.usage),
        "latency_s": response.latency_s,
        "error": response.error,
        "received_at": time.time(),
        "engine": engine,
    }


def record_response(record: dict[str, Any]) -> Response:
    return Response(
        sample_id=record["id"],
        text=record["text"],
        finish_reason=record.get("finish_reason"),
        usage=Usage(**(record.get("usage") or {})),
        latency_s=record.get("latency_s"),
        error=record.get("error"),
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    records = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line torn by a kill mid-write; its item is simply asked again
    return records


def write_json_atomic(path: Path, value: Any) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(value, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(temporary, path)


class RunStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.manifest_path = directory / "manifest.json"
        self.responses_path = directory / "responses.jsonl"
        self.scores_path = directory / "scores.jsonl"
        self.metrics_path = directory / "metrics.json"

    @classmethod
    def open_existing(cls, directory: Path) -> RunStore:
        store = cls(directory)
        if not store.manifest_path.is_file():
            raise RunNotFoundError(f"{directory} is not a vlmeval run (no manifest.json)")
        return store

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def read_manifest(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        return result

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.manifest_path, manifest)

    def responses(self) -> tuple[dict[str, Response], dict[str, Response]]:
        """(answered, failed): the latest success per item, and the latest failure of items never answered.

        Failed items are asked again on resume.
        """
        answered: dict[str, Response] = {}
        failed: dict[str, Response] = {}
        for record in read_jsonl(self.responses_path):
            (failed if record.get("error") is not None else answered)[record["id"]] = record_response(record)
        return answered, {k: v for k, v in failed.items() if k not in answered}

    def answered(self) -> dict[str, Response]:
        return self.responses()[0]

    def failed(self) -> dict[str, Response]:
        return self.responses()[1]

    @contextmanager
    def appender(self, engine: str | None = None) -> Iterator[ResponseAppender]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.responses_path.open("a", encoding="utf-8") as handle:
            if _ends_torn(self.responses_path):
                handle.write("\n")  # close a line torn by a kill, so the next record starts clean
            yield ResponseAppender(handle, engine)

    def engines_used(self) -> dict[str, int]:
        """How many of the kept answers each engine produced (older records name none: "unrecorded")."""
        latest: dict[str, str] = {}
        for record in read_jsonl(self.responses_path):
            if record.get("error") is None:
                latest[record["id"]] = record.get("engine") or "unrecorded"
        counts: dict[str, int] = {}
        for engine in latest.values():
            counts[engine] = counts.get(engine, 0) + 1
        return counts

    def write_scores(self, records: list[dict[str, Any]]) -> None:
        temporary = self.scores_path.with_suffix(".jsonl.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(temporary, self.scores_path)

    def read_scores(self) -> list[dict[str, Any]]:
        return read_jsonl(self.scores_path)

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        write_json_atomic(self.metrics_path, metrics)

    def read_metrics(self) -> dict[str, Any]:
        if not self.metrics_path.is_file():
            raise RunNotFoundError(f"{self.directory} has no metrics.json yet: run `vlmeval score` first")
        result: dict[str, Any] = json.loads(self.metrics_path.read_text(encoding="utf-8"))
        return result


def _ends_torn(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return False
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) != b"\n"


class ResponseAppender:
    def __init__(self, handle: IO[str], engine: str | None = None) -> None:
        self.handle = handle
        self.engine = engine

    def append(self, response: Response) -> None:
        # One write call per record, then flush: the OS has the line even if we are killed next.
        record = response_record(response, self.engine)
        self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.handle.flush()
