"""Grid search: the product of per-parameter grids, walked lazily.

The product is never materialized (``itertools.product`` over the per-parameter
grids), so a grid of 10**7 points costs nothing until it is walked. Two points
whose active parameters are equal (they differ only in genes switched off by
conditions) are one evaluation: a set of the active points already asked
removes the duplicates. That set grows with the number of *distinct* points
asked, which is the evaluation budget anyway. Points that break a
forbidden-value rule (``space.allowed``) are skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any

from .._trial import Candidate
from ._base import Strategy
from ._checks import check_count

if TYPE_CHECKING:
    from .._space import Params

__all__ = ["GridSearch"]

# the grid is deterministic; the seed only feeds space.fix for the baseline
_SEED = 20_240_905


class GridSearch(Strategy):
    """``grid_size`` points per range, every value list's ``Choice.grid(grid_size)``.

    When every parameter has a default, the baseline is asked first (and not
    again if it is also a grid point). ``chunk_size`` bounds how many candidates
    may be outstanding: ``ask`` returns None while that many are unfinished.
    ``info["index"]`` is the position of the point in the full product.
    """

    def __init__(self, space: Params, *, grid_size: int, chunk_size: int | None = None) -> None:
        self.grid_size = check_count("grid_size", grid_size)
        self.chunk_size = None if chunk_size is None else check_count("chunk_size", chunk_size)
        super().__init__(space, seed=_SEED)
        self.grids = [param.grid(self.grid_size) for param in space.parameters]
        self._points: Iterator[tuple[int, tuple[Any, ...]]] = enumerate(
            itertools.product(*self.grids)
        )
        self._seen: set[Hashable] = set()
        self._next: Candidate | None = None
        self._done = False
        self._baseline_pending = space.has_all_defaults

    @property
    def size(self) -> int:
        """The number of points of the full product (before removing any)."""
        size = 1
        for grid in self.grids:
            size *= len(grid)
        return size

    def _ask(self) -> Candidate | None:
        if self.chunk_size is not None and self.outstanding >= self.chunk_size:
            return None
        candidate = self._peek()
        self._next = None
        return candidate

    def _exhausted(self) -> bool:
        return self._peek() is None

    def _peek(self) -> Candidate | None:
        """The next candidate, computed once and kept until asked."""
        if self._next is None and not self._done:
            self._next = self._advance()
            self._done = self._next is None
        return self._next

    def _advance(self) -> Candidate | None:
        if self._baseline_pending:
            self._baseline_pending = False
            point = self.space.fix(self.space.defaults(self.rng), self.rng)
            self._seen.add(self._key(point))
            return Candidate(point, {"strategy": "grid", "index": None, "baseline": True})
        flags = self.space.flags
        for index, values in self._points:
            point = dict(zip(flags, values, strict=True))
            if not self.space.allowed(point):
                continue
            key = self._key(point)
            if key in self._seen:
                continue
            self._seen.add(key)
            return Candidate(point, {"strategy": "grid", "index": index})
        return None

    def _key(self, point: dict[str, Any]) -> Hashable:
        return tuple((flag, _hashable(value)) for flag, value in self.space.active(point).items())


def _hashable(value: Any) -> Hashable:
    # bools and numbers stay apart (True == 1), unhashable list values by repr
    try:
        hash(value)
    except TypeError:
        return ("repr", repr(value))
    return (isinstance(value, bool), value)
