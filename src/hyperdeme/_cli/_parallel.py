"""The report's parallel-coordinates plot: every trial with a FoM across the parameters.

Each axis spans the parameter's full search range as the journal's fingerprint
records it (:mod:`._history`), on a log scale for a parameter searched on one; a
list of values has a tick for each value, in the space's order. So a line's
height shows where in the *space* the trial was, not where among a few trials,
and the colour bar spans every plotted trial. Without a recorded space (an old
journal, a bare file of trial records) an axis spans the values the trials had,
and the title says so. More than :data:`PARALLEL_TOP` trials: the best that many
are drawn (the title says how many of how many), on the same full ranges.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import hyperdeme

from ._engine_internals import Direction, rank_key, wording
from ._history import History, SpaceAxis
from ._plot_base import fom_norm, new_figure, plain_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PARALLEL_TOP", "ParallelAxes", "parallel_axes", "parallel_coordinates"]

#: where a value goes on its axis, in [0, 1]
Placement = Callable[[Any], float]

_LABEL_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}

#: the most trials the plot draws (the best ones); beyond, the lines hide each other anyway
PARALLEL_TOP = 500


@dataclass(frozen=True, slots=True)
class ParallelAxes:
    """The data of a parallel-coordinates plot: one row per trial, one column per flag."""

    trials: list[hyperdeme.Trial]  # best first
    flags: list[str]
    #: each value placed in [0, 1] on its axis; NaN where the parameter was inactive
    rows: list[list[float]]
    #: per flag, the labels of the axis ends (low, high)
    ends: list[tuple[str, str]]
    #: per flag, its tick marks: (position in [0, 1], label)
    ticks: list[list[tuple[float, str]]]
    #: per flag: "log", "linear", "values" (a list), or "seen" (no recorded space: the
    #: values the trials had)
    scales: list[str]
    #: how many trials had a FoM (``trials`` holds the best ``top`` of them)
    total: int


def parallel_axes(
    trials: Sequence[hyperdeme.Trial],
    *,
    top: int = PARALLEL_TOP,
    direction: Direction = "minimize",
    history: History | None = None,
) -> ParallelAxes:
    """The best ``top`` trials with a FoM (ran to the end or stopped early) on the axes
    of the recorded search space (``history.space``); parameters the space does not
    name, or every one without a space, on the values seen among all those trials."""
    ranked = sorted((t for t in trials if t.has_fom), key=rank_key(direction))
    best = ranked[:top]
    declared = {axis.flag: axis for axis in (history.space if history else [])}
    flags = _flags(declared, ranked)
    axes = [_axis(declared.get(flag), _values(ranked, flag)) for flag in flags]
    ticks = [marks for _, marks, _ in axes]
    ends = [(marks[0][1], marks[-1][1]) for marks in ticks]
    rows = _rows(best, flags, [place for place, _, _ in axes])
    return ParallelAxes(best, flags, rows, ends, ticks, [s for _, _, s in axes], len(ranked))


def _flags(declared: dict[str, SpaceAxis], trials: Sequence[hyperdeme.Trial]) -> list[str]:
    """The space's flags in its order, then any other the trials had, as first seen."""
    seen = dict.fromkeys(flag for t in trials for flag in t.params)
    return [*declared, *(flag for flag in seen if flag not in declared)]


def _rows(
    trials: Sequence[hyperdeme.Trial], flags: Sequence[str], places: Sequence[Placement]
) -> list[list[float]]:
    """One row per trial: its place on each flag's axis."""
    columns = [_column(trials, flag, place) for flag, place in zip(flags, places, strict=True)]
    return [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in trials]


def _values(trials: Sequence[hyperdeme.Trial], flag: str) -> list[Any]:
    """The values ``flag`` had among ``trials`` (where it was active)."""
    return [t.params[flag] for t in trials if flag in t.params]


def _column(trials: Sequence[hyperdeme.Trial], flag: str, place: Placement) -> list[float]:
    """Each trial's place on ``flag``'s axis; NaN where the parameter was inactive."""
    return [place(t.params[flag]) if flag in t.params else math.nan for t in trials]


def parallel_coordinates(
    trials: Sequence[hyperdeme.Trial],
    *,
    top: int = PARALLEL_TOP,
    direction: Direction = "minimize",
    history: History | None = None,
) -> Figure:
    """One line per trial across the parameters, coloured by FoM (darker is better), a
    trial stopped early dashed; the best line is drawn on top."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable

    data = parallel_axes(trials, top=top, direction=direction, history=history)
    figure = new_figure()
    figure.set_size_inches(min(16.0, max(7.0, 1.4 * len(data.flags) + 2.0)), 4.5)
    ax = figure.add_subplot()
    if data.trials:
        norm, scale = fom_norm([t.fom for t in data.trials])
        cmap = colormaps["viridis" if direction == "minimize" else "viridis_r"]
        positions = list(range(len(data.flags)))
        for rank in reversed(range(len(data.trials))):  # worst first: the best on top
            trial = data.trials[rank]
            ax.plot(
                positions,
                data.rows[rank],
                marker="o",
                markersize=3,
                linestyle="-" if trial.ok else "--",
                linewidth=1.0,
                color=cmap(norm(trial.fom)),
                label=f"trial {trial.id}",
                zorder=2 + len(data.trials) - rank,
            )
        for position, marks in zip(positions, data.ticks, strict=True):
            ax.axvline(position, color="0.6", linewidth=0.8, zorder=1)
            for height, label in marks:
                ax.annotate(  # above every line, on a pale box: readable where lines cross
                    label, (position, height), xytext=(3, 0), textcoords="offset points",
                    ha="left", va="center", fontsize="x-small", color="0.15",
                    zorder=len(data.trials) + 10, bbox=_LABEL_BOX,
                )  # fmt: skip
        ax.set_xticks(
            positions,
            [_flag_label(f, s) for f, s in zip(data.flags, data.scales, strict=True)],
            fontsize="small",
        )
        figure.colorbar(
            ScalarMappable(norm=norm, cmap=cmap),
            ax=ax,
            label=f"FoM ({wording(direction)}; {scale} colour scale)",
        )
        if any(not t.ok for t in data.trials):
            from matplotlib.lines import Line2D

            dashed = Line2D([], [], linestyle="--", color="0.3", linewidth=1.0)
            ax.legend(
                handles=[dashed], labels=["stopped early (at its last FoM)"],
                loc="lower right", fontsize="x-small", bbox_to_anchor=(1.0, 1.0),
            )  # fmt: skip
    ax.set_xlim(-0.3, max(len(data.flags) - 0.4, 0.7))
    ax.set_ylim(-0.05, 1.05)
    ax.set_yticks([])
    ax.set_title(_title(data), fontsize="medium", loc="left")
    return figure


def _title(data: ParallelAxes) -> str:
    shown = (
        f"all {data.total} trials with a FoM"
        if len(data.trials) == data.total
        else f"the best {len(data.trials)} of {data.total} trials with a FoM"
    )
    ranges = (
        "axes: values the trials had (no search space recorded)"
        if "seen" in data.scales
        else "axes: full search ranges"
    )
    return f"Parameters of {shown}\n{ranges}"


def _flag_label(flag: str, scale: str) -> str:
    return plain_text(flag) + ("\n(log)" if scale == "log" else "")


def _axis(
    declared: SpaceAxis | None, seen: Sequence[Any]
) -> tuple[Placement, list[tuple[float, str]], str]:
    """Where a parameter's values go on its axis, the axis's ticks, and its scale."""
    numbers = all(_is_number(v) for v in seen)
    if declared is not None and declared.low is not None and declared.high is not None and numbers:
        low = min([declared.low, *(float(v) for v in seen)])
        high = max([declared.high, *(float(v) for v in seen)])
        return _range_axis(low, high, log=declared.log, integer=declared.integer)
    if declared is None and seen and numbers:
        low, high = float(min(seen)), float(max(seen))
        if low == high:
            return (lambda v: 0.5), [(0.5, f"{low:.4g}")], "seen"
        place, marks, _ = _range_axis(low, high, log=False, integer=False)
        return place, marks, "seen"
    values = list(declared.values) if declared is not None else []
    return _value_axis(values, seen, "values" if declared is not None else "seen")


def _range_axis(
    low: float, high: float, *, log: bool, integer: bool
) -> tuple[Placement, list[tuple[float, str]], str]:
    """A numeric axis from ``low`` to ``high``, on a log scale when ``log``."""
    if log:
        a, b = math.log10(low), math.log10(high)
        decades = range(math.ceil(a), math.floor(b) + 1)
        marks = [((d - a) / (b - a), f"1e{d}") for d in decades]
        ends = [(0.0, f"{low:.3g}"), (1.0, f"{high:.3g}")]
        marks = ends[:1] + [m for m in marks if 0.04 < m[0] < 0.96] + ends[1:]
        return (lambda v: (math.log10(float(v)) - a) / (b - a)), marks, "log"
    values = [low + (high - low) * i / 4 for i in range(5)]
    if integer:  # every integer of a short range, else five rounded ones
        short = high - low <= 8
        values = sorted(
            {float(v) for v in (range(int(low), int(high) + 1) if short else map(round, values))}
        )
    marks = [((v - low) / (high - low), _tick(v, integer)) for v in values]
    return (lambda v: (float(v) - low) / (high - low)), marks, "linear"


def _value_axis(
    declared: list[Any], seen: Sequence[Any], scale: str
) -> tuple[Placement, list[tuple[float, str]], str]:
    """One tick per value: the declared ones in order, then any other seen, as first seen."""
    keys: dict[str, Any] = {}
    for value in [*declared, *seen]:
        keys.setdefault(repr(value), value)
    order = list(keys)
    if len(order) <= 1:
        marks = [(0.5, _text(keys[k])) for k in order]
        return (lambda v: 0.5), marks, scale
    marks = [(i / (len(order) - 1), _text(keys[k])) for i, k in enumerate(order)]
    return (lambda v: order.index(repr(v)) / (len(order) - 1)), marks, scale


def _tick(value: float, integer: bool) -> str:
    return str(round(value)) if integer and value == round(value) else f"{value:.3g}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: Any) -> str:
    return plain_text(value if isinstance(value, str) else repr(value))
