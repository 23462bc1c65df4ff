"""``aread_journal``: the same trials as ``read_journal``, read off the event loop."""

from __future__ import annotations

import threading
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
