"""Progress of a run: trials done of the budget, running, failed, best FoM so far,
elapsed and estimated remaining time; live on a terminal, a plain line every ``every``
seconds elsewhere (a batch job's log, ``| tee``).

:class:`Progress` consumes events and knows nothing about where they come from
(the driver feeds it for ``opt.optimize(params, progress=True)``, which the
``hyperdeme run`` command uses unless ``--quiet``)::

    progress = Progress(budget=64)      # None: the budget is unknown
    progress.resumed(trials)            # a resumed run's finished trials: not this run's
    with progress:                      # draws on stderr
        progress.set_in_flight(2)       # evaluations running now
        progress.trial_finished(trial)  # each finished hyperdeme.Trial
    progress.state                      # a plain snapshot, for tests and summaries

It only ever writes to its console (stderr by default), never to stdout or to
the trials' log files. On a terminal it draws a live line; otherwise a thread
writes ``state.describe()`` as one plain line (no ANSI codes, never wrapped) every
``every`` seconds, so a batch job's log shows the run going. The remaining time is
this run's pace over what is left of the budget: trials a resumed run's journal held
count as done, never as this run's pace. rich is imported only by this module, which
the driver imports only when progress is asked for.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
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
    #: of ``done``, the trials finished before this run (a resumed run's journal held them)
    before: int = 0

    def describe(self) -> str:
        """One line: ``12/64 trials · 2 running · 1 failed · best FoM 0.0123 · ...``."""
        total = "" if self.budget is None else f"/{self.budget}"
        before = f" ({self.before} before this run)" if self.before else ""
        best = "-" if math.isinf(self.best_fom) else f"{self.best_fom:.6g}"
        parts = [
            *([self.status] if self.status else []),
            f"{self.done}{total} trials{before}",
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
        every: float = 60.0,
    ) -> None:
        self.console = console if console is not None else Console(stderr=True)
        self.budget = budget
        self._clock = clock
        self._started = clock()
        self._done = 0
        self._before = 0
        self._failed = 0
        self._in_flight = 0
        self._status: str | None = None
        self.direction = direction
        self._best = no_best(direction)
        self._live: Live | None = None
        self._refresh_per_second = refresh_per_second
        #: seconds between two plain lines when the console is not a terminal
        self.every = every
        self._lines: threading.Thread | None = None
        self._stop_lines = threading.Event()

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

    def resumed(self, trials: Iterable[Trial]) -> None:
        """Count the trials a resumed run's journal held: done, but not this run's pace."""
        for trial in trials:
            self.trial_finished(trial, in_flight=False)
            self._before += 1

    def trial_finished(self, trial: Trial, *, in_flight: bool = True) -> None:
        """Count a finished trial (cancelled and early-stopped trials count as done, not
        failed); an evaluation that was running stops."""
        if in_flight:
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
        """True when the console is a terminal (and not quiet): only then is a live line
        drawn (elsewhere: plain lines, see :meth:`line`)."""
        return self.console.is_terminal and not self.console.quiet

    @property
    def state(self) -> ProgressState:
        elapsed = self._clock() - self._started
        remaining = None
        this_run = self._done - self._before
        if self.budget is not None and this_run:
            remaining = elapsed / this_run * max(0, self.budget - self._done)
        return ProgressState(
            done=self._done,
            budget=self.budget,
            running=self._in_flight,
            failed=self._failed,
            best_fom=self._best,
            elapsed=elapsed,
            remaining=remaining,
            status=self._status,
            before=self._before,
        )

    def line(self) -> None:
        """Write the state as one plain line (what a console that is no terminal gets)."""
        if self.console.quiet:
            return
        self.console.file.write(self.state.describe() + "\n")
        self.console.file.flush()

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
        """Start drawing: a live line on a terminal, else a plain line every ``every`` s."""
        self._started = self._clock()
        if not self.enabled:
            self._start_lines()
            return
        if self._live is not None:
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

    def _start_lines(self) -> None:
        if self._lines is not None or self.console.quiet or not self.every > 0:
            return

        def write_lines() -> None:
            while not self._stop_lines.wait(self.every):
                self.line()

        self._stop_lines.clear()
        self._lines = threading.Thread(target=write_lines, name="hyperdeme-progress", daemon=True)
        self._lines.start()

    def stop(self) -> None:
        """Draw the final state and stop."""
        if self._lines is not None:
            self._stop_lines.set()
            self._lines.join()
            self._lines = None
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
