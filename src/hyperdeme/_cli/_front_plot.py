"""The report's Pareto-front plot, for a run with several objectives.

Two objectives: one scatter of every successful trial, the front's trials
highlighted and joined in order (a staircase of the trade-offs). More: a grid
of scatters, one per pair of objectives, the front highlighted in each. Axes
name each objective and its direction. Built like the other plots
(:mod:`._plots`: an Agg figure, matplotlib imported only here).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import hyperdeme

from ._engine_internals import Direction, pareto_front, wording
from ._plots import new_figure, plain_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["FRONT_CAPTION", "pareto_plot"]

FRONT_CAPTION = "Pareto front: trials no other beats in every objective"
_GREY = "#9aa0a6"
_FRONT = "#d62728"


def pareto_plot(
    trials: Sequence[hyperdeme.Trial], *, objectives: Mapping[str, Direction]
) -> Figure | None:
    """The front plot, or None when there are fewer than two objectives or no
    successful trial."""
    names = list(objectives)
    done = [t for t in trials if t.ok and all(n in t.objectives for n in names)]
    if len(names) < 2 or not done:
        return None
    front = pareto_front(done, objectives)
    figure = new_figure()
    pairs = list(itertools.combinations(range(len(names)), 2))
    if len(pairs) == 1:
        axes = [figure.add_subplot()]
    else:
        columns = min(3, len(pairs))
        rows = -(-len(pairs) // columns)
        figure.set_size_inches(3.5 * columns, 3.0 * rows)
        axes = [figure.add_subplot(rows, columns, i + 1) for i in range(len(pairs))]
    for ax, (i, j) in zip(axes, pairs, strict=True):
        _scatter(ax, done, front, (names[i], names[j]), objectives, joined=len(pairs) == 1)
    figure.suptitle(f"Pareto front: {len(front)} of {len(done)} successful trials")
    return figure


def _scatter(
    ax: Axes,
    done: Sequence[hyperdeme.Trial],
    front: Sequence[hyperdeme.Trial],
    pair: tuple[str, str],
    objectives: Mapping[str, Direction],
    *,
    joined: bool,
) -> None:
    x, y = pair
    ax.scatter(
        [t.objectives[x] for t in done],
        [t.objectives[y] for t in done],
        s=10,
        color=_GREY,
        label="trials",
    )
    ax.scatter(
        [t.objectives[x] for t in front],
        [t.objectives[y] for t in front],
        s=24,
        color=_FRONT,
        label="Pareto front",
        zorder=3,
    )
    if joined:  # two objectives: the front ordered along the first one
        ax.plot(
            [t.objectives[x] for t in front],
            [t.objectives[y] for t in front],
            color=_FRONT,
            drawstyle="steps-post",
            linewidth=1,
        )
        ax.legend(loc="best", fontsize="small")
    ax.set_xlabel(plain_text(f"{x} ({wording(objectives[x])})"))
    ax.set_ylabel(plain_text(f"{y} ({wording(objectives[y])})"))
