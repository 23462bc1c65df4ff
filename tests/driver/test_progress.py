"""Live progress: the state it shows, its line, and that it draws only on a terminal."""

from __future__ import annotations

import io
import threading
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


def test_progress_draws_no_live_line_when_not_on_a_terminal() -> None:
    screen = io.StringIO()
    progress = Progress(budget=2, console=Console(file=screen))
    assert not progress.enabled
    with progress:  # a plain line only every minute: none in this short run
        progress.set_in_flight(1)
        progress.trial_finished(hyperdeme.Trial(id=1, params={}, fom=0.5))
    assert screen.getvalue() == ""
    assert progress.state.done == 1


def test_after_a_resume_the_pace_is_this_runs_alone() -> None:
    """Issue 21: trials of the journal counted in the pace, so 8 done of 20 in the first
    seconds of a resumed run showed a few seconds left where minutes were."""
    now = [0.0]
    progress = Progress(budget=20, console=Console(file=io.StringIO()), clock=lambda: now[0])
    progress.resumed(hyperdeme.Trial(id=i, params={}, fom=1.0 / i) for i in range(1, 9))
    with progress:
        progress.set_in_flight(2)
        now[0] = 30.0
        progress.trial_finished(hyperdeme.Trial(id=9, params={}, fom=0.5))
        progress.trial_finished(hyperdeme.Trial(id=10, params={}, fom=0.5))
        state = progress.state
    assert (state.done, state.before, state.running) == (10, 8, 0)
    assert state.best_fom == 0.125  # the journal's best still counts as the best
    # 2 trials in 30 s, 10 left: 150 s (the journal's 8 would have made it 30 s)
    assert state.remaining == pytest.approx(150.0)
    assert state.describe() == (
        "10/20 trials (8 before this run) · 0 running · 0 failed · best FoM 0.125 · "
        "0:00:30 elapsed · ~0:02:30 left"
    )


def test_resumed_trials_alone_give_no_pace() -> None:
    progress = Progress(budget=20, console=Console(file=io.StringIO()), clock=lambda: 5.0)
    progress.resumed([hyperdeme.Trial(id=1, params={}, fom=1.0)])
    assert progress.state.remaining is None
    assert progress.state.running == 0


class Lines(Progress):
    """Plain lines, each one also an event a test can wait for."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.written = threading.Event()

    def line(self) -> None:
        super().line()
        self.written.set()


def test_off_a_terminal_a_plain_line_every_few_seconds() -> None:
    """Issue 21: a batch job's log showed nothing for the whole run."""
    screen = io.StringIO()
    progress = Lines(budget=4, console=Console(file=screen, width=40), every=0.01)
    with progress:
        progress.trial_finished(hyperdeme.Trial(id=1, params={}, fom=0.5))
        progress.written.clear()
        assert progress.written.wait(timeout=30)
    text = screen.getvalue()
    assert "\x1b" not in text  # no ANSI codes: a log file, not a terminal
    lines = text.splitlines()
    # whole lines, never wrapped at the console's width
    assert lines[-1].startswith("1/4 trials · 0 running · 0 failed · best FoM 0.5 · ")
    assert all(line.startswith(("0/4 trials", "1/4 trials")) for line in lines)


def test_quiet_or_a_terminal_gets_no_plain_lines() -> None:
    screen = io.StringIO()
    quiet = Progress(budget=1, console=Console(file=screen, quiet=True), every=0.01)
    with quiet:
        quiet.line()
    assert screen.getvalue() == ""
    terminal = progress_on(io.StringIO(), budget=1, every=0.01)
    with terminal:
        assert terminal._lines is None  # the live line instead


@pytest.mark.parametrize("progress", [-1, 0, float("nan"), "often"])
def test_progress_must_be_a_bool_or_seconds(progress: Any) -> None:
    optimizer = hyperdeme.RandomOptimizer(hyperdeme.Evaluator(lambda p: 0.0), num_iters=1)
    with pytest.raises(hyperdeme.ConfigError, match="progress must be True, False or the"):
        optimizer.optimize(hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]), progress=progress)
