"""The points seen: every candidate asked or trial told, as a set of keys.

A strategy never launches a point already evaluated or in flight (see
:func:`hyperdeme._space.point_key` for what "the same point" means).
:class:`Strategy.ask <hyperdeme.strategies.Strategy.ask>` adds each candidate
and :meth:`~hyperdeme.strategies.Strategy.tell` each trial to the strategy's
:class:`SeenPoints`, so a resumed run, whose journal is asked and told again,
rebuilds it. The built-in strategies consult it before proposing: a point seen
is varied (:func:`novel`), else replaced by a fresh draw (:meth:`SeenPoints.fresh`).

On a finite space (see :func:`hyperdeme._space.finite_size`) the set is
:attr:`~SeenPoints.complete` once it holds every point, and the strategies then
say they are exhausted.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any

from .._space import finite_points, finite_size, point_key

if TYPE_CHECKING:
    import numpy as np

    from .._space import Params

__all__ = ["SeenPoints", "novel"]

#: draws tried for a point not seen before enumerating what is left of a finite space
_DRAWS = 64
#: variations of a seen point tried before a fresh draw
_VARIATIONS = 8

Point = dict[str, Any]


class SeenPoints:
    """The keys of the points seen in one search space."""

    def __init__(self, space: Params) -> None:
        self.space = space
        self._keys: set[Hashable] = set()
        self._size: int | None = None
        self._sized = False

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, point: object) -> bool:
        return isinstance(point, Mapping) and point_key(self.space, point) in self._keys

    def add(self, point: Mapping[str, Any]) -> bool:
        """Remember ``point``; True if it was not seen before."""
        key = point_key(self.space, point)
        if key in self._keys:
            return False
        self._keys.add(key)
        return True

    @property
    def size(self) -> int | None:
        """The number of distinct points of the space when finite and known, else None."""
        if not self._sized:
            self._size = finite_size(self.space)
            self._sized = True
        return self._size

    @property
    def complete(self) -> bool:
        """True once every point of a finite space was seen."""
        size = self.size
        return size is not None and len(self._keys) >= size

    def fresh(self, draw: Callable[[], Point], rng: np.random.Generator) -> Point | None:
        """A point not seen: the first of up to 64 ``draw()`` calls, else one drawn
        uniformly from what is left of a small finite space; None if none is found."""
        if self.complete:
            return None
        for _ in range(_DRAWS):
            point = draw()
            if point not in self:
                return point
        unseen: dict[Hashable, Point] = {}
        for point in finite_points(self.space):
            unseen.setdefault(point_key(self.space, point), point)
        left = [point for key, point in unseen.items() if key not in self._keys]
        return left[int(rng.integers(len(left)))] if left else None


def novel(
    point: Point,
    seen: SeenPoints,
    *,
    vary: Callable[[Point], Point],
    draw: Callable[[], Point],
    rng: np.random.Generator,
) -> Point | None:
    """``point`` if not seen; else the first unseen of up to 8 successive ``vary`` steps
    from it; else :meth:`SeenPoints.fresh` (None: nothing new was found)."""
    for _ in range(_VARIATIONS):
        if point not in seen:
            return point
        point = vary(point)
    if point not in seen:
        return point
    return seen.fresh(draw, rng)
