"""The report's plots, as matplotlib figures built from a run's finished trials.

matplotlib is the optional ``plot`` extra: it is imported when a plot is
made, never at ``import hyperdeme``, and figures are drawn by the Agg canvas
directly (no pyplot, no global backend switch). Each function returns its
figure, so tests read the plotted data back. Each takes the experiment's
``direction``: "best" is the lowest FoM, or the highest when it maximises
(the axes then say "higher is better").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import hyperdeme

from ._engine_internals import Direction, is_better, rank_key, wording
from ._errors import UsageProblem

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

#: how many of the best trials the parallel-coordinates plot shows
PARALLEL_TOP = 20
_SIZE = (7.0, 4.0)


def new_figure() -> Figure:
    """An empty figure on an Agg canvas; UsageProblem naming the extra without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageProblem(
            "the report needs matplotlib, which is not installed; install the plot extra: "
            "pip install 'hyperdeme[plot]'"
        ) from None
    figure = Figure(figsize=_SIZE, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def best_over_time(
    trials: Sequence[hyperdeme.Trial], *, direction: Direction = "minimize"
) -> Figure:
    """Best FoM so far against seconds since the run's first trial started."""
    figure = new_figure()
    ax = figure.add_subplot()
    ordered = sorted(trials, key=lambda t: t.ended)
    start = min((t.started for t in trials), default=0.0)
    points = _running_best([(t.ended - start, t) for t in ordered], direction)
    _step(ax, points, "seconds since the first trial started", direction)
    ax.set_title("Best FoM so far over time")
    return figure


def best_over_trials(
    trials: Sequence[hyperdeme.Trial], *, direction: Direction = "minimize"
) -> Figure:
    """Best FoM so far against the number of finished trials (journal order)."""
    figure = new_figure()
    ax = figure.add_subplot()
    points = _running_best([(float(n), t) for n, t in enumerate(trials, 1)], direction)
    _step(ax, points, "trials finished", direction)
    ax.set_title("Best FoM so far over trials")
    return figure


def fom_per_trial(
    trials: Sequence[hyperdeme.Trial], *, direction: Direction = "minimize"
) -> Figure:
    """Every trial's FoM by trial id, coloured by deme (genetic runs) or status.

    Successful trials are dots (one series per deme, or one ``ok`` series);
    trials without a FoM are crosses along the top edge, one series per status.
    """
    figure = new_figure()
    ax = figure.add_subplot()
    ok = [t for t in trials if t.ok]
    groups = _ok_series(ok, by_deme=any("deme" in t.info for t in trials))
    for label, members in groups.items():
        ax.scatter([t.id for t in members], [t.fom for t in members], s=14, label=label)
    failed: dict[str, list[int]] = {}
    for trial in trials:
        if not trial.ok:
            failed.setdefault(trial.status.value, []).append(trial.id)
    for status, ids in failed.items():
        ax.plot(
            ids,
            [0.97] * len(ids),
            "x",
            transform=ax.get_xaxis_transform(),
            label=f"{status} (no FoM)",
        )
    _log_scale_if_wide(ax, [t.fom for t in ok])
    ax.set_xlabel("trial id")
    ax.set_ylabel(f"FoM ({wording(direction)})")
    ax.set_title("FoM of every trial")
    if groups or failed:
        ax.legend(fontsize="small")
    return figure


def _ok_series(ok: Sequence[hyperdeme.Trial], *, by_deme: bool) -> dict[str, list[hyperdeme.Trial]]:
    """The successful trials by label ("deme 0", ... or one "ok"), each by trial id."""
    groups: dict[str, list[hyperdeme.Trial]] = {}
    for trial in sorted(ok, key=lambda t: (_deme(t), t.id) if by_deme else (0, t.id)):
        groups.setdefault(f"deme {_deme(trial)}" if by_deme else "ok", []).append(trial)
    return groups


@dataclass(frozen=True, slots=True)
class ParallelAxes:
    """The data of a parallel-coordinates plot: one row per trial, one column per flag."""

    trials: list[hyperdeme.Trial]  # best first
    flags: list[str]
    #: each value scaled to [0, 1] on its axis; NaN where the parameter was inactive
    rows: list[list[float]]
    #: per flag, the labels of the axis ends (low, high)
    ends: list[tuple[str, str]]


def parallel_axes(
    trials: Sequence[hyperdeme.Trial],
    *,
    top: int = PARALLEL_TOP,
    direction: Direction = "minimize",
) -> ParallelAxes:
    """The ``top`` best successful trials on axes scaled per parameter.

    A numeric parameter is scaled linearly between its smallest and largest
    value among these trials (0.5 when they are all equal); any other is
    placed by the order its values were first seen, evenly spaced.
    """
    best = sorted((t for t in trials if t.ok), key=rank_key(direction))[:top]
    flags = list(dict.fromkeys(flag for t in best for flag in t.params))
    columns: list[list[float]] = []
    ends: list[tuple[str, str]] = []
    for flag in flags:
        scale, axis_ends = _axis([t.params[flag] for t in best if flag in t.params])
        ends.append(axis_ends)
        columns.append([scale(t.params[flag]) if flag in t.params else math.nan for t in best])
    rows = [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in best]
    return ParallelAxes(best, flags, rows, ends)


def parallel_coordinates(
    trials: Sequence[hyperdeme.Trial],
    *,
    top: int = PARALLEL_TOP,
    direction: Direction = "minimize",
) -> Figure:
    """One line per trial of the ``top`` best across the parameters, darker for a better
    FoM (a lower one, or a higher one when maximising)."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    data = parallel_axes(trials, top=top, direction=direction)
    figure = new_figure()
    ax = figure.add_subplot()
    if data.trials:
        foms = [t.fom for t in data.trials]
        norm = Normalize(min(foms), max(foms) if max(foms) > min(foms) else min(foms) + 1)
        cmap = colormaps["viridis" if direction == "minimize" else "viridis_r"]
        positions = list(range(len(data.flags)))
        # worst first, so the best line is drawn on top
        for rank in reversed(range(len(data.trials))):
            trial = data.trials[rank]
            ax.plot(
                positions,
                data.rows[rank],
                marker="o",
                markersize=3,
                color=cmap(norm(trial.fom)),
                label=f"trial {trial.id}",
                zorder=2 + len(data.trials) - rank,
            )
        for position, (low, high) in zip(positions, data.ends, strict=True):
            ax.axvline(position, color="0.6", linewidth=0.8, zorder=1)
            ax.annotate(low, (position, -0.02), ha="center", va="top", fontsize="x-small")
            ax.annotate(high, (position, 1.02), ha="center", va="bottom", fontsize="x-small")
        ax.set_xticks(positions, [plain_text(flag) for flag in data.flags])
        from matplotlib.cm import ScalarMappable

        figure.colorbar(
            ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=f"FoM ({wording(direction)})"
        )
    ax.set_ylim(-0.12, 1.12)
    ax.set_yticks([])
    ax.set_title(f"Parameters of the {len(data.trials)} best trials")
    return figure


#: how many hyperparameters the schedules plot shows (numeric ones, in spec order)
SCHEDULE_PARAMETERS = 4


def schedules(
    trials: Sequence[hyperdeme.Trial], *, direction: Direction = "minimize"
) -> Figure | None:
    """Population-based training: each member's hyperparameters step by step, one panel
    per numeric hyperparameter, one line per member. None for runs of other strategies."""
    slices = sorted(
        (t for t in trials if t.info.get("strategy") == "pbt" and "member" in t.info),
        key=lambda t: (t.info["member"], t.info.get("step", 0)),
    )
    if not slices:
        return None
    flags = _numeric_flags(slices)[:SCHEDULE_PARAMETERS]
    figure = new_figure()
    figure.set_size_inches(_SIZE[0], 2.2 * max(1, len(flags)))
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
    _log_scale_if_wide(ax, [float(t.params[flag]) for t in slices if flag in t.params])
    ax.set_ylabel(plain_text(flag))


class Plot(Protocol):
    """A plot of a run's finished trials (None: nothing to show for this run)."""

    def __call__(
        self, trials: Sequence[hyperdeme.Trial], *, direction: Direction = "minimize"
    ) -> Figure | None: ...


#: file stem -> (caption, plot function), in the order the report shows them; a
#: function returning None has nothing to show for this run
PLOTS: dict[str, tuple[str, Plot]] = {
    "best_over_time": ("Best FoM so far over time", best_over_time),
    "best_over_trials": ("Best FoM so far over trials", best_over_trials),
    "fom_per_trial": ("FoM of every trial", fom_per_trial),
    "parallel_coordinates": ("Parameters of the best trials", parallel_coordinates),
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
    _log_scale_if_wide(ax, ys)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"best FoM ({wording(direction)})")
    if not xs:
        ax.text(0.5, 0.5, "no successful trial yet", transform=ax.transAxes, ha="center")


def _deme(trial: hyperdeme.Trial) -> int:
    deme = trial.info.get("deme")
    return deme if isinstance(deme, int) else -1


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _axis(values: Sequence[Any]) -> tuple[Callable[[Any], float], tuple[str, str]]:
    """How one parameter's values map to [0, 1], and the labels of the axis ends."""
    if all(_is_number(v) for v in values):
        low, high = float(min(values)), float(max(values))
        if high == low:
            return (lambda v: 0.5), (f"{low:.4g}", f"{high:.4g}")
        return (lambda v: (float(v) - low) / (high - low)), (f"{low:.4g}", f"{high:.4g}")
    seen: dict[str, Any] = {}
    for value in values:
        seen.setdefault(repr(value), value)
    keys = list(seen)
    ends = (_text(seen[keys[0]]), _text(seen[keys[-1]]))
    if len(keys) == 1:
        return (lambda v: 0.5), ends
    return (lambda v: keys.index(repr(v)) / (len(keys) - 1)), ends


def _text(value: Any) -> str:
    return plain_text(value if isinstance(value, str) else repr(value))


def plain_text(text: str) -> str:
    """``text`` as matplotlib shows it literally: every ``$`` escaped, so a value or a
    flag such as ``$\\foo{$`` is never parsed as math text (it was an error that
    stopped the report). Matplotlib counts escaped dollars out of the math test and
    unescapes them for display, so the text shows exactly as given. (LaTeX, which
    needs other escapes, is turned off for the report's figures: ``text.usetex``.)"""
    return text.replace("$", r"\$")


def _log_scale_if_wide(ax: Axes, values: Sequence[float]) -> None:
    """A log y axis when the values are all positive and span more than two decades."""
    if values and min(values) > 0 and max(values) / min(values) > 100:
        ax.set_yscale("log")
