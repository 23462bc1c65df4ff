"""Live progress: the state it shows, its line, and that it draws only on a terminal."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

import hyperdeme
from hyperdeme._driver._progress import Progress


def progress_on(screen: io.StringIO, **kwargs: Any) -> Progress:
    return Progress(console=Console(file=screen, force_terminal=True, width=150), **kwargs)


def test_progress_state_and_its_line() -> None:
    now = [100.0]
    screen = io.StringIO()
    progress = progress_on(screen, budget=4, clock=lambda: now[0])
    with progress:
        progress.set_in_flight(2)
        now[0] = 110.0
        progress.trial_finished(hyperdeme.Trial(id=1, params={}, fom=0.5))
        now[0] = 120.0
        progress.trial_finished(hyperdeme.Trial(id=2, params={}, status=hyperdeme.Status.FAILED))
        progress.trial_finished(hyperdeme.Trial(id=3, params={}, status=hyperdeme.Status.CANCELLED))
        progress.set_in_flight(1)
        state = progress.state
    assert (state.done, state.budget, state.running, state.failed) == (3, 4, 1, 1)
    assert state.best_fom == 0.5
    assert state.elapsed == 20.0
    assert state.remaining == pytest.approx(20.0 / 3)
    line = "3/4 trials · 1 running · 1 failed · best FoM 0.5 · 0:00:20 elapsed · ~0:00:07 left"
    assert state.describe() == line
    assert line in screen.getvalue()


def test_progress_without_a_budget_or_a_result() -> None:
    progress = Progress(budget=None, console=Console(file=io.StringIO()), clock=lambda: 0.0)
    assert progress.state.describe() == (
        "0 trials · 0 running · 0 failed · best FoM - · 0:00:00 elapsed"
    )


def test_progress_draws_nothing_when_not_on_a_terminal() -> None:
    screen = io.StringIO()
    progress = Progress(budget=2, console=Console(file=screen))
    assert not progress.enabled
    with progress:
        progress.set_in_flight(1)
        progress.trial_finished(hyperdeme.Trial(id=1, params={}, fom=0.5))
    assert screen.getvalue() == ""
    assert progress.state.done == 1
