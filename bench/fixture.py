"""The MathVision-schema fixture the benches share with the tests, and an engine script that answers it."""

from __future__ import annotations

from pathlib import Path

from vlmeval.types import Request, TextPart


def instant(request: Request) -> str:
    """The fixture's right answer ("What is 7 + 7?" -> 14), at once."""
    text = next(p.text for p in request.messages[0].content if isinstance(p, TextPart))
    return f"The answer is {2 * int(text.split('What is ')[1].split(' +')[0])}."


def write_fixture(data_dir: Path, items: int) -> None:
    """The tests' fixture (hub parquet, one PNG per item). Imported here, not at the top, so the scoring
    workers (spawned: they import the bench script again) stay as light as in a real run."""
    import datasets
    from conftest import mathvision_rows, write_hub_parquet

    datasets.disable_progress_bars()
    write_hub_parquet(data_dir, "test", mathvision_rows(items))
