"""Exact match after trimming and case-folding: the simplest scorer, for plain short-answer tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vlmeval.types import ItemScore


def exact_match(answer: str, target: str, fields: Mapping[str, Any]) -> ItemScore:
    extracted = answer.strip().casefold()
    return ItemScore(float(extracted == target.strip().casefold()), {"extracted": extracted})
