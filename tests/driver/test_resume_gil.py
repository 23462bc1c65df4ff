"""Resuming in someone else's event loop (issue 26): the replay, in a worker thread,
leaves the loop's thread the GIL (paced) and keeps what it built out of the cyclic
GC's full collections for the run (frozen), given back when the run ends."""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Any

import pytest

import hyperdeme
from hyperdeme._core import _pacing

SPACE = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]])
frozen_while_running: list[int] = []


def evaluate(params: dict[str, Any]) -> float:
    frozen_while_running.append(gc.get_freeze_count())
    return float(params["--x"])


def optimizer(tmp_path: Path, num_iters: int) -> hyperdeme.Optimizer:
    evaluator = hyperdeme.Evaluator(evaluate, run_path=str(tmp_path), fsync=False)
    return hyperdeme.RandomOptimizer(evaluator, num_iters=num_iters, seed=3, name="e")


@pytest.fixture(autouse=True)
def nothing_frozen() -> None:
    gc.unfreeze()
    frozen_while_running.clear()


async def test_a_resumed_run_s_replayed_trials_are_frozen_while_it_runs(
    tmp_path: Path,
) -> None:
    thresholds = gc.get_threshold()
    await hyperdeme.optimize(optimizer(tmp_path, 30), SPACE)
    assert frozen_while_running[-1] == 0  # a new run freezes nothing
    frozen_while_running.clear()
    result = await hyperdeme.optimize(optimizer(tmp_path, 32), SPACE, resume=True)
    assert len(result.trials) == 32
    assert len(frozen_while_running) == 2  # the two new trials ran
    assert min(frozen_while_running) > 0  # ... with the replay's objects frozen
    assert gc.get_freeze_count() == 0  # given back at the run's end
    assert gc.get_threshold() == thresholds


async def test_the_replay_pauses_in_its_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await hyperdeme.optimize(optimizer(tmp_path, 30), SPACE)
    pauses: list[threading.Thread] = []
    monkeypatch.setattr(_pacing, "WORK_SECONDS", 0.0)  # a pause at each step
    monkeypatch.setattr(_pacing.time, "sleep", lambda _: pauses.append(threading.current_thread()))
    await hyperdeme.optimize(optimizer(tmp_path, 31), SPACE, resume=True)
    # each of the 61 records read, replayed and freed ... and never on the loop's thread
    assert len(pauses) >= 2 * 61
    assert threading.current_thread() not in pauses


def test_the_replayed_records_are_freed_a_slice_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Freeing 20,000 records at once is one C call holding the GIL for tens of ms."""
    from hyperdeme._driver import _opening

    monkeypatch.setattr(_pacing, "WORK_SECONDS", 0.0)
    monkeypatch.setattr(_pacing.time, "sleep", lambda _: None)
    records: list[dict[str, Any]] = [{"id": n} for n in range(1200)]
    pacer = _pacing.Pacer()
    _opening._release(records, pacer)
    assert records == []
    assert pacer.pauses == 3  # 500, 500, 200: a pause after each slice
