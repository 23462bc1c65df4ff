"""Live progress of a run on a terminal: trials done of the budget, running, failed,
best FoM so far, elapsed and estimated remaining time.

:class:`Progress` consumes events and knows nothing about where they come from
(the driver feeds it for ``opt.optimize(params, progress=True)``, which the
``hyperdeme run`` command uses on a terminal)::

    progress = Progress(budget=64)      # None: the budget is unknown
    with progress:                      # draws on stderr, only if stderr is a terminal
        progress.set_in_flight(2)       # evaluations running now
        progress.trial_finished(trial)  # each finished hyperdeme.Trial
    progress.state                      # a plain snapshot, for tests and summaries

It only ever writes to its console (stderr by default), never to stdout or to
the trials' log files; when the console is not a terminal it draws nothing.
rich is imported only by this module, which the driver imports only when
progress is asked for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .._core._direction import Direction, is_better, no_best
from .._core._trial import FAILURES, Trial

__all__ = ["Progress", "ProgressState"]


@dataclass(frozen=True, slots=True)
class ProgressState:
    """A snapshot of a run's progress."""

    done: int
    budget: int | None
    running: int
    failed: int
    best_fom: float
    elapsed: float
    #: seconds, estimated from the pace so far; None when it cannot be estimated
    remaining: float | None
    #: what the run waits for, first on the line (``pending: Resources``), or None
    status: str | None = None

    def describe(self) -> str:
        """One line: ``12/64 trials · 2 running · 1 failed · best FoM 0.0123 · ...``."""
        total = "" if self.budget is None else f"/{self.budget}"
        best = "-" if math.isinf(self.best_fom) else f"{self.best_fom:.6g}"
        parts = [
            *([self.status] if self.status else []),
            f"{self.done}{total} trials",
            f"{self.running} running",
            f"{self.failed} failed",
            f"best FoM {best}",
            f"{_duration(self.elapsed)} elapsed",
        ]
        if self.remaining is not None:
            parts.append(f"~{_duration(self.remaining)} left")
        return " · ".join(parts)


class Progress:
    """Accumulates run events and, on a terminal, shows them live (see the module doc)."""

    def __init__(
        self,
        *,
        budget: int | None = None,
        console: Console | None = None,
        clock: Callable[[], float] = time.monotonic,
        refresh_per_second: float = 4.0,
        direction: Direction = "minimize",
    ) -> None:
        self.console = console if console is not None else Console(stderr=True)
        self.budget = budget
        self._clock = clock
        self._started = clock()
        self._done = 0
        self._failed = 0
        self._in_flight = 0
        self._status: str | None = None
        self.direction = direction
        self._best = no_best(direction)
        self._live: Live | None = None
        self._refresh_per_second = refresh_per_second

    # -- events ---------------------------------------------------------------------------

    def set_in_flight(self, count: int) -> None:
        """How many evaluations are running now."""
        self._in_flight = max(0, count)
        self._refresh()

    def set_status(self, text: str | None) -> None:
        """What the run waits for (``pending: Resources``), shown first; None clears it."""
        self._status = text
        self._refresh()

    def trial_started(self, trial: Trial) -> None:
        """One more evaluation is running."""
        self.set_in_flight(self._in_flight + 1)

    def trial_finished(self, trial: Trial) -> None:
        """Count a finished trial (cancelled and early-stopped trials count as done, not
        failed); an evaluation that was running stops."""
        self._in_flight = max(0, self._in_flight - 1)
        self._done += 1
        if trial.ok:
            if is_better(trial.fom, self._best, self.direction):
                self._best = trial.fom
        elif trial.status in FAILURES:
            self._failed += 1
        self._refresh()

    # -- display --------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """True when the console is a terminal (and not quiet): only then is anything drawn."""
        return self.console.is_terminal and not self.console.quiet

    @property
    def state(self) -> ProgressState:
        elapsed = self._clock() - self._started
        remaining = None
        if self.budget is not None and self._done:
            remaining = elapsed / self._done * max(0, self.budget - self._done)
        return ProgressState(
            done=self._done,
            budget=self.budget,
            running=self._in_flight,
            failed=self._failed,
            best_fom=self._best,
            elapsed=elapsed,
            remaining=remaining,
            status=self._status,
        )

    def __rich__(self) -> RenderableType:
        state = self.state
        line = Table.grid(padding=(0, 1))
        if state.budget:
            line.add_row(
                ProgressBar(total=state.budget, completed=min(state.done, state.budget), width=20),
                Text(state.describe(), no_wrap=True, overflow="ellipsis"),
            )
        else:
            line.add_row(Text(state.describe(), no_wrap=True, overflow="ellipsis"))
        return Group(line)

    def start(self) -> None:
        """Start drawing (a no-op when the console is not a terminal)."""
        self._started = self._clock()
        if not self.enabled or self._live is not None:
            return
        self._live = Live(
            self,
            console=self.console,
            refresh_per_second=self._refresh_per_second,
            transient=False,
            redirect_stdout=False,  # stdout may be a file; never move it to the terminal
            redirect_stderr=True,  # warnings on stderr print above the live line
        )
        self._live.start()

    def stop(self) -> None:
        """Draw the final state and stop."""
        if self._live is not None:
            self._live.refresh()
            self._live.stop()
            self._live = None

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    def __enter__(self) -> Progress:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _duration(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))
