"""Grid search: the product of per-parameter grids, walked lazily.

Nothing is materialized: each parameter's grid is a lazy sequence
(:meth:`Range.axis <hyperdeme.Range.axis>`, a few numbers whatever
``grid_size``), and the walk is an odometer over the product: position ``n``
is read as a mixed-radix number whose digits index the axes (the last
parameter turns fastest, as in ``itertools.product``). So a grid of 10**9
points per range costs nothing until it is walked. Two points whose active
parameters are equal (they differ only in genes switched off by conditions)
are one evaluation: the strategy's points seen (``_seen``: every point asked
or told) removes the duplicates. That set grows with the number of *distinct* points asked, which
is the evaluation budget anyway. Points that break a forbidden-value rule
(``space.allowed``) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._core._checks import count
from .._core._settings import Config, setting
from .._core._trial import Candidate
from ._base import Strategy

if TYPE_CHECKING:
    from .._space import GridAxis, Params

__all__ = ["GridConfig", "GridSearch"]

# the grid is deterministic; the seed only feeds space.fix for the baseline
_SEED = 20_240_905


@dataclass(frozen=True, kw_only=True)
class GridConfig(Config):
    """Grid search's settings (crayai's names and defaults)."""

    #: points per range (value lists give up to this many of their values)
    grid_size: int = setting(5, count(1))

    def strategy(self, space: Params, *, seed: int | None = None) -> GridSearch:
        return GridSearch(space, self)


class GridSearch(Strategy):
    """``grid_size`` points per range, every value list's ``Choice.grid(grid_size)``.

    When every parameter has a default, the baseline is asked first (and not
    again if it is also a grid point). ``info["index"]`` is the position of the
    point in the full product. The grid is deterministic: it takes no seed.
    """

    def __init__(self, space: Params, config: GridConfig | None = None) -> None:
        super().__init__(space, seed=_SEED)
        self.config = config or GridConfig()
        #: each parameter's grid, a lazy sequence (``len``, ``[i]``, ``in``)
        self.grids: list[GridAxis] = [
            param.axis(self.config.grid_size) for param in space.parameters
        ]
        self._position = 0  # the next position in the full product
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

    @property
    def budget(self) -> int | None:
        """The points of the product, plus the baseline unless it is a grid point; None
        with conditions (duplicate and forbidden points are skipped as the walk finds them)."""
        if self.space.conditions:
            return None
        if not self.space.has_all_defaults:
            return self.size
        baseline = self.space.defaults()
        on_grid = all(
            baseline[flag] in grid for flag, grid in zip(self.space.flags, self.grids, strict=True)
        )
        return self.size + (0 if on_grid else 1)

    def propose(self, trial_id: int) -> Candidate | None:
        candidate = self._peek()
        self._next = None
        return candidate

    def exhausted(self) -> bool:
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
            return Candidate(point, {"strategy": "grid", "index": None, "baseline": True})
        flags = self.space.flags
        size = self.size
        while self._position < size:
            index = self._position
            self._position += 1
            point = dict(zip(flags, self._values_at(index), strict=True))
            if not self.space.allowed(point):
                continue
            if point in self.seen:
                continue
            return Candidate(point, {"strategy": "grid", "index": index})
        return None

    def _values_at(self, index: int) -> list[Any]:
        """The point at ``index`` of the product: its mixed-radix digits index the grids."""
        values: list[Any] = []
        for grid in reversed(self.grids):
            index, digit = divmod(index, len(grid))
            values.append(grid[digit])
        values.reverse()
        return values
