"""Pareto dominance over score vectors (lower is better in every objective).

Several objectives (``Evaluator(objectives={...})``) have no single best
trial: a trial *dominates* another when it is no worse in every objective and
better in one, and the *Pareto front* is the trials no other dominates. This
module holds the three computations built on that, on score vectors (each
objective turned by :func:`~hyperdeme._core._direction.score` so that lower is
better; ``inf`` for a failed trial's):

* :func:`non_dominated`: the indices of the front, for ``Result.pareto_front``
  and the CLI. Points sorted lexicographically cannot be dominated by a later
  one, so one pass keeps a front and compares each point only with it:
  O(M N F) for N points, M objectives and a front of F (numpy, vectorised
  over the front), and O(N log N) for the sort; no N x N matrix, so tens of
  thousands of trials cost milliseconds.
* :func:`fronts`: Deb's fast non-dominated sort (NSGA-II) into successive
  fronts, for a deme of at most a few hundred individuals: one N x N dominance
  matrix by broadcasting (O(M N^2) time and O(N^2) memory) and front peeling
  with vectorised counts.
* :func:`crowding`: NSGA-II's crowding distance within one front: O(M F log F).

Why by hand: the sort and the crowding distance are some 60 lines of numpy;
pymoo (which has them) pulls in a large stack and compiled extras, and
Optuna's versions are private functions of an optional extra. deap's are
pure-Python loops (slower than numpy here).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["crowding", "dominates", "fronts", "non_dominated", "pareto_order"]


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """True when ``a`` is no worse than ``b`` in every objective and better in one."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True)
    )


def _matrix(scores: Sequence[Sequence[float]]) -> npt.NDArray[np.float64]:
    import numpy as np

    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 2:  # no points, or points without objectives
        array = array.reshape(len(scores), 0 if len(scores) == 0 else -1)
    # NaN never wins a comparison; as inf it is dominated by every finite point
    return np.where(np.isnan(array), math.inf, array)


def non_dominated(scores: Sequence[Sequence[float]]) -> list[int]:
    """The indices of the points no other point dominates, in their original order.

    Equal points are all kept (none dominates another).
    """
    import numpy as np

    points = _matrix(scores)
    if len(points) == 0:
        return []
    order = np.lexsort(points.T[::-1])  # by the first objective, then the next ...
    front: list[int] = []
    kept = np.empty((0, points.shape[1]))
    for index in order:
        point = points[index]
        # sorted lexicographically: only a point already kept can dominate this one
        if len(front) and bool(
            np.any(np.all(kept <= point, axis=1) & np.any(kept < point, axis=1))
        ):
            continue
        front.append(int(index))
        kept = np.vstack([kept, point])
    return sorted(front)


def fronts(scores: Sequence[Sequence[float]]) -> list[list[int]]:
    """The points split into successive non-dominated fronts (Deb's fast non-dominated
    sort): the first front dominated by none, the next dominated only by the first ...
    Indices ascending within each front."""
    import numpy as np

    points = _matrix(scores)
    n = len(points)
    if n == 0:
        return []
    no_worse = np.all(points[:, None, :] <= points[None, :, :], axis=2)
    better = np.any(points[:, None, :] < points[None, :, :], axis=2)
    dominance = no_worse & better  # [i, j]: i dominates j
    dominated_by = dominance.sum(axis=0)  # how many points dominate each one
    remaining = np.ones(n, dtype=bool)
    result: list[list[int]] = []
    while remaining.any():
        current = np.flatnonzero(remaining & (dominated_by == 0))
        result.append([int(i) for i in current])
        remaining[current] = False
        dominated_by = dominated_by - dominance[current].sum(axis=0)
    return result


def crowding(scores: Sequence[Sequence[float]]) -> list[float]:
    """NSGA-II's crowding distance of each point of one front: for each objective, the
    gap between its two neighbours over the objective's range, summed; the extremes
    of each objective (and every point of a front of two or fewer) get ``inf``."""
    import numpy as np

    points = _matrix(scores)
    n = len(points)
    distance = np.zeros(n)
    if n <= 2:
        return [math.inf] * n
    for column in points.T:
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        distance[order[0]] = distance[order[-1]] = math.inf
        span = ordered[-1] - ordered[0]
        if not math.isfinite(span) or span <= 0:
            continue
        distance[order[1:-1]] += (ordered[2:] - ordered[:-2]) / span
    return [float(d) for d in distance]


def pareto_order(scores: Sequence[Sequence[float]]) -> list[tuple[int, float]]:
    """Each point's NSGA-II rank: ``(front, -crowding distance)``, lower is better.

    Sorting by it (then by a tie-breaker such as the trial id) puts the first
    front first, and within a front the most isolated points first.
    """
    ranks: list[tuple[int, float]] = [(0, 0.0)] * len(scores)
    for level, members in enumerate(fronts(scores)):
        distances = crowding([scores[i] for i in members])
        for index, distance in zip(members, distances, strict=True):
            ranks[index] = (level, -distance)
    return ranks
