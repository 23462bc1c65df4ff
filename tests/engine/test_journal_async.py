"""``aread_journal``: the same trials as ``read_journal``, read off the event loop."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hyperdeme
from hyperdeme import Params
from hyperdeme._core._pacing import Pacer
from hyperdeme._engine import _journal_async


async def test_aread_journal_reads_what_read_journal_reads_in_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def evaluate(params: dict[str, Any]) -> float:
        return float(params["--x"])

    evaluator = hyperdeme.Evaluator(evaluate, run_path=str(tmp_path), fsync=False)
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=20, seed=2, name="e")
    await hyperdeme.optimize(opt, Params([["--x", 0.5, (0.0, 1.0)]]))
    readers: list[tuple[threading.Thread, object]] = []
    read_trials = _journal_async.read_trials

    def reading(path: Any, *, pacer: Any = None) -> Any:
        readers.append((threading.current_thread(), pacer))
        return read_trials(path, pacer=pacer)

    monkeypatch.setattr(_journal_async, "read_trials", reading)
    trials = await hyperdeme.aread_journal(tmp_path / "e")
    expected = hyperdeme.read_journal(tmp_path / "e")
    assert [t.to_json() for t in trials] == [t.to_json() for t in expected]
    assert len(trials) == 20
    assert readers
    thread, pacer = readers[0]
    assert thread is not threading.current_thread()
    # paced: it pauses so the loop's thread gets the GIL (see test_pacing.py)
    assert isinstance(pacer, Pacer)


def _journal(path: Path, trials: int) -> Path:
    """A journal of ``trials`` finished trials, as a run writes them."""
    file = path / "trials.jsonl"
    lines = [
        {"schema": 2, "type": "experiment", "fingerprint": {"seed": 1, "direction": "minimize"}}
    ]
    for n in range(1, trials + 1):
        x = n / (trials + 1)
        lines.append({"schema": 2, "type": "started", "id": n, "genes": {"--x": x}, "info": {}})
        lines.append(
            {
                "schema": 2, "type": "trial", "id": n, "params": {"--x": x}, "fom": x,
                "metrics": {"FoM": x}, "status": "ok", "attempts": 1, "returncode": 0,
                "started": 1.0, "ended": 2.0, "duration": 1.0, "info": {}, "error": "",
                "command": "f", "nodes": 1, "steps": 0, "intermediate": {},
            }
        )  # fmt: skip
    file.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return file


@pytest.fixture
def eager_collector() -> Iterator[None]:
    """A collector that runs a full collection as soon as one is allowed: what the
    process held before is frozen (so any survivor is a quarter of the rest), and
    the young thresholds are tiny. Everything given back after."""
    assert gc.get_freeze_count() == 0
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.collect()
    gc.set_threshold(50, 2, 2)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


async def test_no_full_collection_runs_while_aread_journal_reads(
    tmp_path: Path, eager_collector: None
) -> None:
    journal = _journal(tmp_path, 600)
    full: list[int] = []

    def counting(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(1)

    gc.callbacks.append(counting)
    try:
        hyperdeme.read_journal(journal)  # the same read without deferring: one is due
        assert full, "the eager collector ran no full collection: this test proves nothing"
        full.clear()
        threshold = gc.get_threshold()
        trials = await hyperdeme.aread_journal(journal)
        assert gc.get_threshold() == threshold  # given back
    finally:
        gc.callbacks.remove(counting)
    assert len(trials) == 600
    assert full == []


def test_a_read_trial_costs_the_collector_two_tracked_objects(tmp_path: Path) -> None:
    """The trial and its candidate; their dicts of plain values stay untracked, and
    nothing of the read (records, the checker's tables) outlives it."""
    journal = _journal(tmp_path, 2000)
    gc.collect()
    before = len(gc.get_objects())
    trials = hyperdeme.read_journal(journal)
    gc.collect()
    tracked = len(gc.get_objects()) - before
    assert len(trials) == 2000
    assert tracked <= 2 * len(trials) + 50, f"{tracked / len(trials):.2f} tracked per trial"
