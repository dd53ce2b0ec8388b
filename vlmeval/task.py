"""A benchmark as a value: where its data lives, how a row becomes a Sample, how to prompt and score."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vlmeval.scoring.metrics import summarize
from vlmeval.templates import render_template
from vlmeval.types import ImagePart, ItemScore, MediaLimits, Message, Sample, TextPart

# A row from the dataset (images already turned into ImageRef) -> Sample.
RowToSample = Callable[[Mapping[str, Any]], Sample]
# (answer text after model post-processing, sample target, sample fields) -> ItemScore.
# Must be a picklable top-level function: it runs in scoring worker processes.
ScoreFn = Callable[[str, str, Mapping[str, Any]], ItemScore]
# (per-item score records with `score`, `meta`, `error`; the task's group_by keys) -> metrics. The result
# must hold "overall" with n, mean and stderr (what leaderboards read); anything else is the task's own.
AggregateFn = Callable[[Sequence[Mapping[str, Any]], Sequence[str]], dict[str, Any]]


@dataclass(frozen=True)
class DataSource:
    """A hub dataset pinned to a revision, plus the layout of its local copy."""

    hub_id: str
    revision: str
    splits: Mapping[str, int]
    image_fields: Sequence[str] = ("image",)


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    source: DataSource
    default_split: str
    template: str
    to_sample: RowToSample
    score: ScoreFn
    group_by: Sequence[str] = ()
    aggregate: AggregateFn = summarize
    media_limits: MediaLimits | None = None
    score_timeout_s: float = 10.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def render(self, sample: Sample) -> tuple[Message, ...]:
        """Images first, then the templated text: the order every Qwen-VL evaluation script uses."""
        text = render_template(self.template, sample.fields)
        parts: list[ImagePart | TextPart] = [ImagePart(image) for image in sample.media]
        parts.append(TextPart(text))
        return (Message(role="user", content=tuple(parts)),)

    def settings(self) -> dict[str, Any]:
        """Everything about the task that can move a score, for the manifest and fingerprint."""
        return {
            "name": self.name,
            "hub_id": self.source.hub_id,
            "revision": self.source.revision,
            "template": self.template,
            "media_limits": self.media_limits.as_dict() if self.media_limits else None,
            "score": f"{self.score.__module__}.{self.score.__qualname__}",
            "aggregate": f"{self.aggregate.__module__}.{self.aggregate.__qualname__}",
            "extra": dict(self.extra),
        }
