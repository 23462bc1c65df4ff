"""The report's plots, as matplotlib figures built from a run's finished trials.

matplotlib is the optional ``plot`` extra, imported when a figure is made
(:mod:`._plot_base`). Each function returns its figure, so tests read the
plotted data back. Each takes the experiment's ``direction``: "best" is the
lowest FoM, or the highest when it maximises, and every FoM axis says which
("lower is better") and its scale (log when the values are positive and span
more than a decade). Each also takes the journal's :class:`~._history.History`
(the search space, the pauses between drivers) where it has a use for it.
The parallel-coordinates plot is :mod:`._parallel`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import hyperdeme

from ._engine_internals import Direction, is_better, wording
from ._history import History, Pause
from ._parallel import PARALLEL_TOP as PARALLEL_TOP
from ._parallel import ParallelAxes as ParallelAxes
from ._parallel import parallel_axes as parallel_axes
from ._parallel import parallel_coordinates as parallel_coordinates
from ._plot_base import SIZE, log_scale
from ._plot_base import new_figure as new_figure
from ._plot_base import plain_text as plain_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PLOTS",
    "ParallelAxes",
    "Plot",
    "best_over_time",
    "best_over_trials",
    "fom_per_trial",
    "new_figure",
    "parallel_axes",
    "parallel_coordinates",
    "plain_text",
    "schedules",
]

_PAUSE_COLOUR = "#f2c14e"
_STOPPED_LABEL = "stopped early (at its last FoM)"


def best_over_time(
    trials: Sequence[hyperdeme.Trial],
    *,
    direction: Direction = "minimize",
    history: History | None = None,
) -> Figure:
    """Best FoM so far against seconds since the run's first trial started; each pause
    between a driver's stop and the next one's first trial shaded and labelled with its
    length. Pauses longer together than the time trials ran (a run resumed the next
    day) are cut short to narrow gaps, so the curve keeps its width; the axis says so."""
    figure = new_figure()
    ax = figure.add_subplot()
    ordered = sorted(trials, key=lambda t: t.ended)
    start = min((t.started for t in trials), default=0.0)
    end = max((t.ended for t in trials), default=start)
    pauses = history.pauses if history else []
    clock = _Clock(start, end, pauses)
    points = _running_best([(clock.x(t.ended), t) for t in ordered], direction)
    xlabel = "seconds since the first trial started"
    _step(ax, points, xlabel + (" (pauses cut short)" if clock.cut else ""), direction)
    for number, pause in enumerate(pauses, 1):
        left = clock.x(pause.stopped)
        right = left + clock.width(pause)
        ax.axvspan(
            left,
            right,
            color=_PAUSE_COLOUR,
            alpha=0.35,
            label="stopped until resumed" + (" (not to scale)" if clock.cut else "")
            if number == 1
            else None,
        )
        ax.annotate(
            f"paused {_duration(pause)}", ((left + right) / 2, 0.98),
            xycoords=ax.get_xaxis_transform(), ha="center", va="top", fontsize="x-small",
        )  # fmt: skip
    if pauses:
        ax.legend(fontsize="small", loc="center right")
    ax.set_title("Best FoM so far over time")
    return figure


class _Clock:
    """Wall-clock times as the x of the time plot: seconds since ``start``, each pause
    cut to a gap of 3 % of the running time when the pauses together outlast it."""

    def __init__(self, start: float, end: float, pauses: Sequence[Pause]) -> None:
        self.start = start
        self.pauses = pauses
        paused = sum(p.resumed - p.stopped for p in pauses)
        running = max(end - start - paused, 0.0)
        self.cut = paused > running
        self.gap = 0.03 * running

    def width(self, pause: Pause) -> float:
        """How wide ``pause`` is drawn."""
        return (
            min(self.gap, pause.resumed - pause.stopped)
            if self.cut
            else pause.resumed - pause.stopped
        )

    def x(self, wall: float) -> float:
        """Where the wall-clock time ``wall`` is drawn."""
        removed = sum(
            (p.resumed - p.stopped) - self.width(p) for p in self.pauses if p.resumed <= wall
        )
        return wall - self.start - removed


def best_over_trials(
    trials: Sequence[hyperdeme.Trial],
    *,
    direction: Direction = "minimize",
    history: History | None = None,
) -> Figure:
    """Best FoM so far against the number of finished trials (journal order); a dotted
    line where a driver took the experiment over (a resume)."""
    figure = new_figure()
    ax = figure.add_subplot()
    points = _running_best([(float(n), t) for n, t in enumerate(trials, 1)], direction)
    _step(ax, points, "trials finished", direction)
    for number, pause in enumerate(history.pauses if history else [], 1):
        ax.axvline(
            pause.finished_before + 0.5,
            color="0.4",
            linestyle=":",
            label="resumed here" if number == 1 else None,
        )
    if history and history.pauses:
        ax.legend(fontsize="small")
    ax.set_title("Best FoM so far over trials")
    return figure


def fom_per_trial(
    trials: Sequence[hyperdeme.Trial],
    *,
    direction: Direction = "minimize",
    history: History | None = None,
) -> Figure:
    """Every trial's FoM by trial id, coloured by deme (genetic runs) or status.

    Trials that ran to their end are dots (one series per deme, or one ``ok``
    series); trials stopped early are hollow triangles at their FoM (the last
    intermediate one, as the journal records it); only trials without any FoM
    are crosses along the top edge, one series per status.
    """
    del history  # nothing to mark here
    figure = new_figure()
    ax = figure.add_subplot()
    ok = [t for t in trials if t.ok]
    groups = _ok_series(ok, by_deme=any("deme" in t.info for t in trials))
    for label, members in groups.items():
        ax.scatter([t.id for t in members], [t.fom for t in members], s=14, label=label)
    stopped = _stopped_series(ax, trials)
    failed = _no_fom_series(ax, trials)
    scale = _fom_scale(ax, [t.fom for t in [*ok, *stopped]])
    ax.set_xlabel("trial id")
    ax.set_ylabel(f"FoM ({wording(direction)}; {scale} scale)")
    ax.set_title("FoM of every trial")
    if groups or stopped or failed:
        ax.legend(fontsize="small")
    return figure


def _stopped_series(ax: Axes, trials: Sequence[hyperdeme.Trial]) -> list[hyperdeme.Trial]:
    """Trials stopped early with a FoM: hollow triangles at it, by trial id."""
    stopped = sorted((t for t in trials if t.has_fom and not t.ok), key=lambda t: t.id)
    if stopped:
        ax.scatter(
            [t.id for t in stopped],
            [t.fom for t in stopped],
            s=22,
            marker="v",
            facecolors="none",
            edgecolors="0.35",
            label=_STOPPED_LABEL,
        )
    return stopped


def _no_fom_series(ax: Axes, trials: Sequence[hyperdeme.Trial]) -> dict[str, list[int]]:
    """Trials without any FoM: crosses along the top edge, one series per status."""
    failed: dict[str, list[int]] = {}
    for trial in trials:
        if not trial.has_fom:
            failed.setdefault(trial.status.value, []).append(trial.id)
    for status, ids in failed.items():
        ax.plot(
            ids,
            [0.97] * len(ids),
            "x",
            transform=ax.get_xaxis_transform(),
            label=f"{status} (no FoM)",
        )
    return failed


def _ok_series(ok: Sequence[hyperdeme.Trial], *, by_deme: bool) -> dict[str, list[hyperdeme.Trial]]:
    """The successful trials by label ("deme 0", ... or one "ok"), each by trial id."""
    groups: dict[str, list[hyperdeme.Trial]] = {}
    for trial in sorted(ok, key=lambda t: (_deme(t), t.id) if by_deme else (0, t.id)):
        groups.setdefault(f"deme {_deme(trial)}" if by_deme else "ok", []).append(trial)
    return groups


def _duration(pause: Pause) -> str:
    """A pause's length for a label: ``42 s``, ``17 min``, ``3.2 h``, ``2.5 d``."""
    seconds = max(0.0, pause.resumed - pause.stopped)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


#: how many hyperparameters the schedules plot shows (numeric ones, in spec order)
SCHEDULE_PARAMETERS = 4


def schedules(
    trials: Sequence[hyperdeme.Trial],
    *,
    direction: Direction = "minimize",
    history: History | None = None,
) -> Figure | None:
    """Population-based training: each member's hyperparameters step by step, one panel
    per numeric hyperparameter, one line per member. None for runs of other strategies."""
    del direction, history  # the hyperparameters, not the FoM
    slices = sorted(
        (t for t in trials if t.info.get("strategy") == "pbt" and "member" in t.info),
        key=lambda t: (t.info["member"], t.info.get("step", 0)),
    )
    if not slices:
        return None
    flags = _numeric_flags(slices)[:SCHEDULE_PARAMETERS]
    figure = new_figure()
    figure.set_size_inches(SIZE[0], 2.2 * max(1, len(flags)))
    for row, flag in enumerate(flags, 1):
        ax = figure.add_subplot(len(flags), 1, row)
        _schedule_panel(ax, slices, flag)
        if row == len(flags):
            ax.set_xlabel("step")
    figure.suptitle("Hyperparameter schedules (population-based training)")
    return figure


def _numeric_flags(trials: Sequence[hyperdeme.Trial]) -> list[str]:
    """The flags whose every value among ``trials`` is a number, in first-seen order."""
    return [
        flag
        for flag in dict.fromkeys(flag for t in trials for flag in t.params)
        if all(_is_number(t.params[flag]) for t in trials if flag in t.params)
    ]


def _schedule_panel(ax: Axes, slices: Sequence[hyperdeme.Trial], flag: str) -> None:
    """One hyperparameter's panel: its value by step, one line per member."""
    for member in sorted({t.info["member"] for t in slices}):
        mine = [t for t in slices if t.info["member"] == member and flag in t.params]
        ax.plot(
            [t.info.get("step", 0) for t in mine],
            [float(t.params[flag]) for t in mine],
            marker=".",
            label=plain_text(f"member {member}"),
        )
    _fom_scale(ax, [float(t.params[flag]) for t in slices if flag in t.params])
    ax.set_ylabel(plain_text(flag))


class Plot(Protocol):
    """A plot of a run's finished trials (None: nothing to show for this run)."""

    def __call__(
        self,
        trials: Sequence[hyperdeme.Trial],
        *,
        direction: Direction = "minimize",
        history: History | None = None,
    ) -> Figure | None: ...


#: file stem -> (caption, plot function), in the order the report shows them; a
#: function returning None has nothing to show for this run
PLOTS: dict[str, tuple[str, Plot]] = {
    "best_over_time": ("Best FoM so far over time", best_over_time),
    "best_over_trials": ("Best FoM so far over trials", best_over_trials),
    "fom_per_trial": ("FoM of every trial", fom_per_trial),
    "parallel_coordinates": (
        "Parameters of the trials, on the full search ranges",
        parallel_coordinates,
    ),
    "schedules": ("Hyperparameter schedules of the population", schedules),
}


def _running_best(
    points: Sequence[tuple[float, hyperdeme.Trial]], direction: Direction
) -> tuple[list[float], list[float]]:
    xs: list[float] = []
    ys: list[float] = []
    best = math.nan  # none yet
    for x, trial in points:
        if trial.ok and (math.isnan(best) or is_better(trial.fom, best, direction)):
            best = trial.fom
        if math.isfinite(best):
            xs.append(x)
            ys.append(best)
    return xs, ys


def _step(
    ax: Axes, points: tuple[list[float], list[float]], xlabel: str, direction: Direction
) -> None:
    xs, ys = points
    ax.plot(xs, ys, drawstyle="steps-post", marker=".", label="best FoM so far")
    scale = _fom_scale(ax, ys)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"best FoM ({wording(direction)}; {scale} scale)")
    if not xs:
        ax.text(0.5, 0.5, "no successful trial yet", transform=ax.transAxes, ha="center")


def _deme(trial: hyperdeme.Trial) -> int:
    deme = trial.info.get("deme")
    return deme if isinstance(deme, int) else -1


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _fom_scale(ax: Axes, values: Sequence[float]) -> str:
    """A log y axis when the values are all positive and span more than a decade
    (:func:`~._plot_base.log_scale`), else linear; the scale's name, for the label."""
    if log_scale(values):
        ax.set_yscale("log")
        return "log"
    return "linear"
