"""MathVision (MATH-V): 3,040 competition math problems with images (test), 304 in testmini.

Data: `MathLLMs/MathVision` on the hub (parquet: id, question, options, image path, decoded_image, answer,
solution, level, subject), or a local copy in the same schema (`--data-dir`: `<split>.jsonl` or
`<split>.parquet` / `data/<split>-*.parquet`, image paths relative to the folder).
Prompt: Qwen3-VL report Appendix B.1 (`prompts/mathvision.j2`); pixels 768..5120 x 28x28, as in the Qwen3-VL
repo's MathVision script. Open question: how the VLMEvalKit TSV that script reads lays out the choices.
Score: the official MATH-V rule-based scorer, item for item (`mathvision_rules`); accuracy overall, per
subject and per level, as the official `_result.json` reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vlmeval.task import DataSource, Task
from vlmeval.tasks.mathvision_rules import score_response
from vlmeval.types import ImageRef, ItemScore, MediaLimits, Sample

SOURCE = DataSource(
    hub_id="MathLLMs/MathVision",
    revision="14b5e86a95856c4231a056b82f658584eae2b309",
    splits={"test": 3040, "testmini": 304},
    image_fields=("decoded_image", "image"),
)


def to_sample(row: Mapping[str, Any]) -> Sample:
    images = [row[name] for name in SOURCE.image_fields if isinstance(row.get(name), ImageRef)]
    return Sample(
        id=str(row["id"]),
        target=str(row["answer"]),
        fields={"question": row["question"], "options": list(row.get("options") or [])},
        media=tuple(images[:1]),
        meta={"subject": row["subject"], "level": int(row["level"])},
    )


def score(answer: str, target: str, fields: Mapping[str, Any]) -> ItemScore:
    correct, extracted = score_response(answer, target, list(fields["options"]))
    return ItemScore(float(correct), {"extracted": extracted})


TASK = Task(
    name="mathvision",
    description="MATH-Vision: competition math with images; official rule-based MATH-V scoring",
    source=SOURCE,
    default_split="test",
    template="mathvision",
    to_sample=to_sample,
    score=score,
    group_by=("subject", "level"),
    media_limits=MediaLimits(min_pixels=768 * 28 * 28, max_pixels=5120 * 28 * 28),
    score_timeout_s=10.0,
)
