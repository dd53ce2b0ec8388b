"""The data-parallel engine: scripted engines in spawned worker processes, killed and resumed."""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
import time
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
from dp_workers import (
    broken_factory,
    dying_engine,
    hanging_engine,
    raising_engine,
    requests_for,
    tagging_engine,
)

from vlmeval.engines import data_parallel
from vlmeval.engines.data_parallel import DataParallelEngine, default_chunk_size, device_slices
from vlmeval.runner import RunOptions, run
from vlmeval.store import read_jsonl
from vlmeval.types import Response

DEATH = re.compile(r"^data-parallel worker \d died: exit -9$")


def tags(responses: list[Response]) -> list[tuple[str, str, str]]:
    """(answer, pid, devices) of each answer."""
    return [tuple(r.text.split("|")) for r in responses]  # type: ignore[misc]


def workers_alive() -> list[str]:
    """This process's live data-parallel workers (other tests may own other children)."""
    return [p.name for p in multiprocessing.active_children() if p.name.startswith("vlmeval-data-parallel")]


def assert_each_answered_once(responses: list[Response], count: int) -> None:
    ids = Counter(r.sample_id for r in responses)
    assert ids == Counter(f"q{i}" for i in range(count))
    assert [r.error for r in responses if r.error] == []
    assert all(r.text.split("|")[0] == str(2 * int(r.sample_id[1:])) for r in responses)


def test_device_slices_come_from_the_visible_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    assert device_slices(2, 2, ["4", "5", "6", "7", "8"]) == ["4,5", "6,7"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3, 1,2")
    assert device_slices(3, 1, None) == ["3", "1", "2"]
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert device_slices(2, 4, None) == ["0,1,2,3", "4,5,6,7"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2")
    with pytest.raises(ValueError, match=r"needs 4 devices \(2 workers x 2 each\) but only 3"):
        DataParallelEngine(partial(tagging_engine), workers=2, devices_per_worker=2)
    assert default_chunk_size(100, 3) == 9 and default_chunk_size(2, 8) == 1


def test_unpicklable_factory_and_describe() -> None:
    with pytest.raises(ValueError, match="must be picklable"):
        DataParallelEngine(lambda: tagging_engine(), workers=1, visible_devices=["0"])
    engine = DataParallelEngine(partial(tagging_engine), workers=2, devices_per_worker=2,
                                visible_devices="0123", worker_description={"engine": "scripted"})
    assert engine.describe() == {
        "engine": "data-parallel", "workers": 2, "devices_per_worker": 2, "device_slices": ["0,1", "2,3"],
        "chunk_size": "ceil(items / (workers * 4))", "worker": {"engine": "scripted"},
    }
    assert list(engine.generate([])) == [] and workers_alive() == []


def test_every_item_answered_once_spread_over_three_workers(tmp_path: Path) -> None:
    factory = partial(tagging_engine, str(tmp_path), parties=3, delay_s=0.01)
    engine = DataParallelEngine(factory, workers=3, devices_per_worker=2, visible_devices="abcdef",
                                chunk_size=2)
    responses = list(engine.generate(requests_for(30)))
    assert_each_answered_once(responses, 30)
    devices_by_pid = {pid: devices for _, pid, devices in tags(responses)}
    assert sorted(devices_by_pid.values()) == ["a,b", "c,d", "e,f"]  # three processes, one slice each
    assert workers_alive() == []


def test_a_killed_worker_loses_nothing(tmp_path: Path) -> None:
    factory = partial(dying_engine, ("1",), kill_after=1, barrier_dir=str(tmp_path), parties=3, delay_s=0.01)
    engine = DataParallelEngine(factory, workers=3, visible_devices=["0", "1", "2"], chunk_size=3)
    responses = list(engine.generate(requests_for(30)))
    assert_each_answered_once(responses, 30)
    answered_on = Counter(devices for _, _, devices in tags(responses))
    assert answered_on["1"] == 1 and answered_on["0"] + answered_on["2"] == 29
    assert workers_alive() == []


def test_workers_that_fail_to_build_their_engine(tmp_path: Path) -> None:
    survivor = DataParallelEngine(partial(broken_factory, ("1",)), workers=2, visible_devices=["0", "1"],
                                  chunk_size=2)
    responses = list(survivor.generate(requests_for(8)))
    assert_each_answered_once(responses, 8)
    assert {devices for _, _, devices in tags(responses)} == {"0"}
    nobody = DataParallelEngine(partial(broken_factory, ("0", "1")), workers=2, visible_devices=["0", "1"])
    failed = list(nobody.generate(requests_for(5)))
    assert sorted(r.sample_id for r in failed) == [f"q{i}" for i in range(5)]
    assert {r.error for r in failed} <= {
        f"data-parallel worker {i} died: exit 1 (RuntimeError: no GPU here ({i}))" for i in (0, 1)}


def test_an_engine_raising_mid_chunk_hands_its_items_over(tmp_path: Path) -> None:
    factory = partial(raising_engine, ("0",), raise_after=2, barrier_dir=str(tmp_path), parties=2)
    engine = DataParallelEngine(factory, workers=2, visible_devices=["0", "1"], chunk_size=4)
    responses = list(engine.generate(requests_for(16)))
    assert_each_answered_once(responses, 16)
    answered_on = Counter(devices for _, _, devices in tags(responses))
    assert answered_on == {"0": 2, "1": 14}


def test_closing_early_stops_every_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_parallel, "STOP_GRACE_S", 0.2)
    engine = DataParallelEngine(partial(hanging_engine), workers=2, visible_devices=["0", "1"], chunk_size=3)
    stream = engine.generate(requests_for(12))
    first = next(stream)
    assert first.ok and len(workers_alive()) == 2
    stream.close()  # both workers hang, deaf to SIGTERM: only SIGKILL stops them
    assert workers_alive() == []


PARENT_SCRIPT = """
from functools import partial
from dp_workers import hanging_engine, requests_for
from vlmeval.engines.data_parallel import DataParallelEngine
engine = DataParallelEngine(partial(hanging_engine), workers=2, visible_devices=["0", "1"], chunk_size=1)
for response in engine.generate(requests_for(4)):
    print(response.text, flush=True)
"""


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_workers_die_with_a_killed_parent() -> None:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    parent = subprocess.Popen([sys.executable, "-c", PARENT_SCRIPT], stdout=subprocess.PIPE, text=True,
                              env=environment)
    assert parent.stdout is not None
    worker_pids = {int(parent.stdout.readline().split("|")[1]) for _ in range(2)}  # both now hang
    assert len(worker_pids) == 2 and all(running(pid) for pid in worker_pids)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 30  # a bound on waiting, not a timing assertion
    while any(running(pid) for pid in worker_pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(running(pid) for pid in worker_pids)


def test_all_workers_killed_then_the_runner_resumes(mathvision_dir: Path, tmp_path: Path) -> None:
    options = RunOptions(task="mathvision", model="qwen3-vl-2b-instruct", data_dir=mathvision_dir,
                         output_dir=tmp_path / "results", show_progress=False, score_workers=1)
    doomed = DataParallelEngine(partial(dying_engine, ("0", "1"), kill_after=2), workers=2,
                                visible_devices=["0", "1"], chunk_size=3)
    first = run(options, engine=doomed)
    assert first["generation"] == {"already_answered": 0, "requested": 12, "received": 12, "errors": 8}
    records = read_jsonl(Path(first["run_dir"]) / "responses.jsonl")
    assert all(DEATH.match(r["error"]) for r in records if r["error"])

    healthy = DataParallelEngine(partial(tagging_engine, tagged=False), workers=2, visible_devices=["0", "1"])
    second = run(options, engine=healthy)
    assert second["generation"] == {"already_answered": 4, "requested": 8, "received": 8, "errors": 0}
    records = read_jsonl(Path(second["run_dir"]) / "responses.jsonl")
    successes = Counter(r["id"] for r in records if r["error"] is None)
    assert successes == Counter(str(i) for i in range(1, 13))  # one success each, none asked twice
    assert second["metrics"]["overall"]["n"] == 12
