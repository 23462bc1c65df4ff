"""Pacing long work in a worker thread (hyperdeme._core._pacing): it pauses, releasing
the GIL and the CPU, every WORK_SECONDS of work."""

from __future__ import annotations

import pytest

from hyperdeme._core import _pacing
from hyperdeme._core._pacing import Pacer, paced


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses taken (not slept: the test checks when, not how long)."""
    taken: list[float] = []
    monkeypatch.setattr(_pacing.time, "sleep", taken.append)
    return taken


def test_work_pauses_once_it_ran_its_share(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    monkeypatch.setattr(_pacing, "WORK_SECONDS", 0.004)  # a share of 4 ms, for round numbers
    clock = iter([0.0, 0.001, 0.002, 0.005, 0.005, 0.006, 0.0101, 0.0101])
    monkeypatch.setattr(_pacing.time, "perf_counter", lambda: next(clock))
    pacer = Pacer()  # starts at 0.0
    for _ in range(4):
        pacer.tick()  # 1, 2 ms: no pause; 5 ms: one (restarting at 5); 6 ms: none
    assert sleeps == [_pacing.PAUSE_SECONDS]
    pacer.tick()  # 10.1 ms: 5.1 ms since the last pause
    assert sleeps == [_pacing.PAUSE_SECONDS] * 2
    assert pacer.pauses == 2


def test_paced_gives_every_item_and_ticks_before_each(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    monkeypatch.setattr(_pacing, "WORK_SECONDS", 0.0)  # every tick pauses
    pacer = Pacer()
    assert list(paced(range(5), pacer)) == [0, 1, 2, 3, 4]
    assert pacer.pauses == len(sleeps) == 5
