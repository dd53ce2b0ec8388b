"""Leaderboards from run directories: one row per run, per-group breakdowns, per-item sample tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from vlmeval.store import RunStore


def load_runs(run_dirs: Sequence[Path]) -> list[tuple[RunStore, dict[str, Any]]]:
    runs = []
    for directory in run_dirs:
        store = RunStore.open_existing(directory)
        runs.append((store, store.read_metrics()))
    return runs


def leaderboard(runs: Sequence[tuple[RunStore, dict[str, Any]]]) -> pd.DataFrame:
    rows = []
    for _, metrics in runs:
        overall = metrics["overall"]
        rows.append({
            "task": metrics["task"], "split": metrics["split"], "model": metrics["model"],
            "n": overall["n"], "accuracy": 100 * overall["mean"], "stderr": 100 * overall["stderr"],
            "errors": overall.get("errors", 0), "run_id": metrics["run_id"],
        })
    frame = pd.DataFrame(rows)
    return frame.sort_values(["task", "accuracy"], ascending=[True, False]).reset_index(drop=True)


def breakdowns(runs: Sequence[tuple[RunStore, dict[str, Any]]]) -> dict[str, pd.DataFrame]:
    """For each grouping key (subject, level, ...): groups as rows, one accuracy column per model."""
    tables: dict[str, dict[str, dict[str, float]]] = {}
    for _, metrics in runs:
        for key, groups in metrics.get("groups", {}).items():
            column = f"{metrics['model']} ({metrics['task']})"
            for name, stats in groups.items():
                tables.setdefault(key, {}).setdefault(name, {})[column] = 100 * stats["mean"]
    return {key: pd.DataFrame.from_dict(rows, orient="index") for key, rows in tables.items()}


def samples_frame(runs: Sequence[tuple[RunStore, dict[str, Any]]]) -> pd.DataFrame:
    rows = []
    for store, metrics in runs:
        for record in store.read_scores():
            rows.append({
                "task": record["task"], "model": metrics["model"], "run_id": metrics["run_id"],
                "id": record["id"], "score": record["score"], "prediction": record["prediction"],
                "answer": record["answer"], "target": record["target"],
                "extracted": record["detail"].get("extracted"), "error": record["error"],
                **{f"meta.{k}": v for k, v in record["meta"].items()},
            })
    return pd.DataFrame(rows)
