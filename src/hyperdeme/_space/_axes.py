"""A parameter's grid as a sequence: ``len(axis)``, ``axis[i]``, ``value in axis``.

A range's grid of ``k`` points is crayai's: ``numpy.linspace(low, high, k)``
(``geomspace`` with ``log``), rounded for an integer range, deduplicated,
sorted, ends included. Why an axis is not simply that list: ``grid_size`` is a
user's number, and a fine grid (10**9 points per range, walked for a few
hundred trials) would cost gigabytes and minutes of numpy before the first
trial, while the walk reads a handful of points. So a range's axis
(:class:`SpacedAxis`) keeps the few numbers that locate its points
(:mod:`._spacing`) and computes point ``i`` when it is read; an axis of at most
``LISTED_UP_TO`` points lists itself once (the grid search reads a point per
parameter per trial: a tuple beats a numpy call). Either way the points are
computed one way, by :mod:`._spacing`, so small and huge grids cannot disagree.
Value lists and one-point grids are :class:`ListedAxis`.
"""

from __future__ import annotations

import bisect
import math
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from .._core._checks import is_number
from ._values import same_value

if TYPE_CHECKING:
    from ._spacing import Stretch

__all__ = ["LISTED_UP_TO", "GridAxis", "ListedAxis", "SpacedAxis"]

#: range axes of at most this many points are listed once built
LISTED_UP_TO = 1 << 12


class GridAxis(Sequence[Any]):
    """One parameter's grid points in increasing order (value lists: in list order)."""

    __slots__ = ()

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def _get(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        size = len(self)
        if isinstance(index, slice):
            return [self._get(i) for i in range(*index.indices(size))]
        position = index + size if index < 0 else index
        if not 0 <= position < size:
            raise IndexError(f"grid axis index {index} out of range for {size} points")
        return self._get(position)

    def __repr__(self) -> str:
        size = len(self)
        shown = ", ".join(repr(v) for v in self[:3]) + (f", ..., {self[-1]!r}" if size > 3 else "")
        return f"<{type(self).__name__} of {size} points: {shown}>"


class ListedAxis(GridAxis):
    """Grid points held in a tuple (value lists, one-point grids, small grids)."""

    __slots__ = ("_values",)

    def __init__(self, values: Sequence[Any]) -> None:
        self._values = tuple(values)

    def __len__(self) -> int:
        return len(self._values)

    def _get(self, index: int) -> Any:
        return self._values[index]

    def __contains__(self, value: object) -> bool:
        return any(same_value(value, point) for point in self._values)


class SpacedAxis(GridAxis):
    """The ``k``-point grid of a range, computed lazily; see the module docstring."""

    __slots__ = ("_high", "_len", "_listed", "_low", "_starts", "_stretches")

    def __init__(
        self, flag: str, low: float, high: float, k: int, *, integer: bool, log: bool
    ) -> None:
        if k < 2:
            raise ValueError("a spaced grid axis needs at least 2 points")
        from ._spacing import Points, stretches  # numpy: imported when a grid is built

        points = Points(flag, low, high, k, integer=integer, log=log)
        self._low, self._high = low, high
        self._stretches: list[Stretch] = stretches(points)
        self._starts: list[int] = []
        position = 1
        for stretch in self._stretches:
            self._starts.append(position)
            position += stretch.count
        self._len = position + 1
        self._listed: tuple[Any, ...] | None = None
        if self._len <= LISTED_UP_TO:
            self._listed = tuple(self)

    def __len__(self) -> int:
        return self._len

    def _get(self, index: int) -> Any:
        if self._listed is not None:
            return self._listed[index]
        if index == 0:
            return self._low
        if index == self._len - 1:
            return self._high
        which = bisect.bisect_right(self._starts, index) - 1
        return self._stretches[which].value(index - self._starts[which])

    def __iter__(self) -> Iterator[Any]:
        if self._listed is not None:
            yield from self._listed
            return
        yield self._low
        for stretch in self._stretches:
            yield from stretch
        yield self._high

    def __contains__(self, value: object) -> bool:
        if not is_number(value) or math.isnan(value):
            return False
        low = bisect.bisect_left(self, value)  # the first position whose point is >= value
        return low < self._len and bool(self._get(low) == value)
