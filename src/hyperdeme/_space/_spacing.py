"""The points of a spaced grid one at a time, and where they repeat, without a list.

Point ``i`` is computed by the floating-point operations ``numpy.linspace``
(``geomspace``) applies to the whole array, on an array of indices: the same
bits (:class:`Points`).

Deduplication without a list: the points never decrease, so equal points are
neighbours and the grid is the first point of each run of equal ones. The
points between the two ends fall into stretches of three kinds, told apart by
bounds on the floating-point error of the points, with a wide margin
(:func:`stretches`):

* *dense*: consecutive points provably less than 1 apart (an integer range with
  more points than integers): rounded, they hit every integer in between, so
  those integers are the grid there;
* *distinct*: consecutive points provably apart (by at least 1 on an integer
  range, by more than rounding error on a real one): each is a grid point;
* *scanned*: anything else (the transition of an integer log range from dense to
  distinct, the few indices of an integer range with one point per integer,
  give or take rounding, where rounding may go either way): computed chunk by
  chunk, keeping one count of new values per chunk; a point there is found
  again by recomputing its chunk.

Why this much (issue 16.11 asked whether less would do): each part is what some
grid needs to be both exact (the points ``numpy.linspace`` gives, bit for bit,
deduplicated) and lazy (``grid_size=10**9`` built in milliseconds and a few
hundred kilobytes). Rounding noise decides whether neighbouring points of an
integer range coincide, so no formula gives the grid; bounds on the noise tell
where every point is new, where every integer is hit, and where the points must
be looked at. At ``grid_size=10**9``, ``(1, 10**12)`` log is dense up to index
629,880,015, scanned for 7,147 indices, then distinct; ``(0, 10**9)`` (a seed,
one point per integer give or take rounding, :func:`_near_one`) is distinct but
for 1,912 indices scanned around its one crossing. Without the dense and
near-one stretches those axes would be scanned whole (10**9 points: 200 s on the
development machine, 2 s per 10**7).
What went (issue 16.11): a second computation of small grids, numpy on the
whole array; every range axis is computed here, whatever its size, so small and
huge grids cannot disagree (``tests/space/test_grid_points.py`` pins a sweep).

The result is exactly the deduplicated points. Only the time to build an axis
depends on how much must be scanned: a few thousand points for the ranges
tried with 10**9 points per axis; all of them (once, in chunks) only in
corner cases (spacing below float resolution, bounds beyond 2**50 with about
one point per integer). The memory never grows with ``k`` beyond one count per
scanned chunk.

Error bounds: a linearly spaced point is ``fl(fl(i * step) + low)``, within one
ulp of ``4 * max(|low|, |high|)`` of ``i * step + low``; a log-spaced one is
``10 ** y`` with ``y`` within ``2**-47`` of its exact line (``|y| < 40`` for
integer bounds below 2**63), so its relative error is below ``2**-45`` plus
numpy's ``power`` error (a few ulps); ``_REL`` allows 32 times that.
"""

from __future__ import annotations

# imported only when a range's grid is built (by _axes.SpacedAxis), so numpy is too
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .._core._errors import ConfigError

__all__ = ["Points", "Stretch", "stretches"]

#: points computed at once when scanning
_CHUNK = 1 << 14
#: allowed relative error of a log-spaced point (numpy's is below 2**-44)
_REL = 2.0**-40
#: below this, ``x + 0.5`` is exact in floating point, so rounding a point is exact
_EXACT = 2.0**50
#: a log integer range whose points become 1 apart beyond this is scanned
_CROSSING = 2.0**48
_INT64 = 2.0**63
#: a linear integer range crossing more integer boundaries than this is scanned whole
_MAX_CROSSINGS = 1 << 12
#: numpy.logspace's base, shaped as it shapes it (the same ``power`` loop, the same bits)
_TEN = np.expand_dims(np.array(10.0), 0)


class Points:
    """Points ``i`` of ``numpy.linspace(low, high, k)`` (``geomspace`` with ``log``), for
    an array of indices, by numpy's own operations; rounded and clipped like ``Range.clip``."""

    def __init__(
        self, flag: str, low: float, high: float, k: int, *, integer: bool, log: bool
    ) -> None:
        self.flag, self.low, self.high, self.k = flag, low, high, k
        self.integer, self.log = integer, log
        self.low_float, self.high_float = float(low), float(high)
        self._low_int = np.int64(low if integer else 0)
        self._high_int = np.int64(high if integer else 0)
        start: Any
        stop: Any
        if log:  # numpy.geomspace: log10 of the ends, logspace, then the ends put back
            self._first = np.asarray(low).astype(np.float64)
            self._last = np.asarray(high).astype(np.float64)
            start, stop = np.log10(self._first), np.log10(self._last)
        else:
            start, stop = np.asarray(low), np.asarray(high)
        self._start, self._stop = start, stop
        self._delta = np.subtract(stop, start, dtype=np.float64)
        self.step = float(self._delta / (k - 1))

    def raw(self, indices: np.ndarray) -> np.ndarray:
        """The points before rounding and clipping, as numpy computes them."""
        y = indices.astype(np.float64)
        if self.step == 0:  # numpy's path for a subnormal step
            y /= self.k - 1
            y *= self._delta
        else:
            y *= self._delta / (self.k - 1)
        y += self._start
        last = indices == self.k - 1
        y[last] = self._stop
        if self.log:
            y = np.power(_TEN, y)
            y[indices == 0] = self._first
            y[last] = self._last
        return y

    def values(self, indices: np.ndarray) -> np.ndarray:
        """The grid values: clipped floats, or rounded ints (int64) for an integer range."""
        clipped: np.ndarray = np.minimum(
            np.maximum(self.raw(indices), self.low_float), self.high_float
        )
        if not self.integer:
            return clipped
        rounded = np.floor(clipped + 0.5)
        if self.high_float < _INT64:
            ints = rounded.astype(np.int64)
        else:  # float(high) rounded up to 2**63, beyond int64
            top = rounded >= _INT64
            ints = np.where(top, 0.0, rounded).astype(np.int64)
            ints[top] = self.high
        bounded: np.ndarray = np.minimum(np.maximum(ints, self._low_int), self._high_int)
        return bounded

    def value(self, index: int) -> Any:
        return self.values(np.array([index]))[0].item()

    def raw_at(self, index: int) -> float:
        return float(self.raw(np.array([index]))[0])

    @property
    def first_value(self) -> Any:
        return self.low if self.integer else self.low_float

    @property
    def last_value(self) -> Any:
        return self.high if self.integer else self.high_float


@dataclass(frozen=True, slots=True)
class _Run:
    """Consecutive integers: the grid where it is dense."""

    first: int
    count: int

    def value(self, offset: int) -> Any:
        return self.first + offset

    def __iter__(self) -> Iterator[Any]:
        return iter(range(self.first, self.first + self.count))


@dataclass(frozen=True, slots=True)
class _Each:
    """Every point from index ``first`` on: the grid where points are distinct."""

    points: Points
    first: int
    count: int

    def value(self, offset: int) -> Any:
        return self.points.value(self.first + offset)

    def __iter__(self) -> Iterator[Any]:
        end = self.first + self.count
        for start in range(self.first, end, _CHUNK):
            yield from self.points.values(np.arange(start, min(start + _CHUNK, end))).tolist()


class _Scan:
    """The new values among the points of indices ``first..last``, after ``previous``:
    counted once per chunk, each chunk recomputed when a value in it is asked for."""

    __slots__ = ("_cached", "_ends", "_first", "_last", "_points", "_previous", "count")

    def __init__(self, points: Points, first: int, last: int, previous: Any) -> None:
        self._points, self._first, self._last, self._previous = points, first, last, previous
        self._cached: tuple[int, np.ndarray] | None = None
        chunks = (last - first) // _CHUNK + 1
        counts = np.fromiter((len(self._new(c)) for c in range(chunks)), np.int64, chunks)
        self._ends = np.cumsum(counts)  # new values up to each chunk's end
        self.count = int(self._ends[-1])

    def value(self, offset: int) -> Any:
        chunk = int(np.searchsorted(self._ends, offset, side="right"))
        if self._cached is None or self._cached[0] != chunk:
            self._cached = (chunk, self._new(chunk))
        before = int(self._ends[chunk - 1]) if chunk else 0
        return self._cached[1][offset - before].item()

    def __iter__(self) -> Iterator[Any]:
        for chunk in range(len(self._ends)):
            yield from self._new(chunk).tolist()

    def _new(self, chunk: int) -> np.ndarray:
        """The values of a chunk that differ from the point before them, high excluded."""
        start = self._first + chunk * _CHUNK
        stop = min(start + _CHUNK, self._last + 1)
        points = self._points
        if start == self._first:
            previous = np.array([self._previous], dtype=np.int64 if points.integer else None)
            values = np.concatenate((previous, points.values(np.arange(start, stop))))
        else:
            values = points.values(np.arange(start - 1, stop))
        if np.any(values[1:] < values[:-1]):
            raise ConfigError(
                f"{points.flag}: grid_size={points.k} puts grid points closer together than "
                "floating point can order them; use a smaller grid_size.",
                name="grid_size",
                value=points.k,
            )
        new: np.ndarray = values[1:][values[1:] != values[:-1]]
        below_high: np.ndarray = new[new != points.last_value]
        return below_high


Stretch = _Run | _Each | _Scan


def stretches(points: Points) -> list[Stretch]:
    """The grid between its two ends (indices ``1..k-2``), in stretches; see the module
    docstring."""
    last = points.k - 2
    if last < 1:
        return []
    if points.step == 0:
        return [_Scan(points, 1, last, points.first_value)]
    if points.log:
        return _log_stretches(points, last)
    bound = 4 * max(abs(points.low_float), abs(points.high_float))
    error = math.ulp(bound)  # of each point; twice that on a difference of two
    step = points.step
    if not points.integer:
        return [_distinct(points, 1, last)] if step > 4 * error else _scanned(points, 1, last)
    if bound >= _EXACT:
        return _scanned(points, 1, last)
    if step == 1.0 or step + 2 * error < 1:  # exact, or every difference below 1
        return [_dense(points, last)]
    if step - 2 * error >= 1:
        return [_distinct(points, 1, last)]
    return _near_one(points, last, error)


def _near_one(points: Points, last: int, error: float) -> list[Stretch]:
    """A linear integer range with one point per integer, give or take rounding error.

    Point ``i`` is ``low + i + floor(1/2 + i*d + noise)`` with ``d = step - 1`` and
    ``|noise| <= error``: away from the few indices where ``1/2 + i*d`` comes within
    the noise of an integer, consecutive points differ by 1 or 2 (``d > 0``) or by
    exactly 1 (``d < 0``), so every point is new; the indices near a crossing are
    scanned.
    """
    drift = Fraction(points.step) - 1
    slack = Fraction(2 * error)
    half = Fraction(1, 2)
    lowest, highest = sorted((half + drift, half + last * drift))
    crossings = range(math.ceil(lowest - slack), math.floor(highest + slack) + 1)
    if len(crossings) > _MAX_CROSSINGS:
        return _scanned(points, 1, last)
    near: list[tuple[int, int]] = []  # index ranges around each crossing
    for crossing in crossings:
        ends = sorted(((crossing - half - slack) / drift, (crossing - half + slack) / drift))
        first, final = max(1, math.floor(ends[0]) - 1), min(last, math.ceil(ends[1]) + 1)
        if first <= final:
            near.append((first, final))
    bands: list[list[int]] = []
    for first, final in sorted(near):
        if bands and first <= bands[-1][1] + 1:
            bands[-1][1] = max(bands[-1][1], final)
        else:
            bands.append([first, final])
    found: list[Stretch] = []
    cursor = 1
    for first, final in bands:
        if first > cursor:
            found.append(_Each(points, cursor, first - cursor))
        previous = points.value(first - 1) if first > 1 else points.first_value
        found.append(_Scan(points, first, final, previous))
        cursor = final + 1
    if cursor <= last:
        found.append(_distinct(points, cursor, last))
    return [stretch for stretch in found if stretch.count]


def _log_stretches(points: Points, last: int) -> list[Stretch]:
    # consecutive exact points have the ratio 10**step; the difference after a computed
    # point x lies within x * (ratio - 1 -+ margins)
    growth = math.expm1(points.step * math.log(10))
    widest = growth * (1 + _REL) + 3 * _REL
    narrowest = growth * (1 - _REL) - 3 * _REL
    if narrowest <= 0:
        return _scanned(points, 1, last)
    if not points.integer:
        return [_distinct(points, 1, last)]
    if points.high_float >= _EXACT and 1 / narrowest >= _CROSSING:
        return _scanned(points, 1, last)
    # dense up to the last index whose next point is surely < 1 away
    dense_end = _last_true(lambda i: points.raw_at(i) * widest < 1, 0, last)
    # distinct from the first index whose next point is surely >= 1 away
    unsure = _last_true(lambda i: points.raw_at(i) * narrowest < 1, max(dense_end, 0), last)
    distinct_from = unsure + 1
    dense_to = min(dense_end + 1, last)  # the point after the last dense difference
    found: list[Stretch] = [_dense(points, dense_to)] if dense_to >= 1 else []
    previous = points.value(dense_to) if dense_to >= 1 else points.first_value
    scan_to = min(distinct_from, last)
    if scan_to > dense_to:
        found.append(_Scan(points, dense_to + 1, scan_to, previous))
    if distinct_from < last:
        found.append(_distinct(points, distinct_from + 1, last))
    return [stretch for stretch in found if stretch.count]


def _dense(points: Points, to: int) -> _Run:
    """Indices ``1..to`` where rounded points step by 0 or 1: every integer up to point ``to``."""
    top = min(points.value(to), int(points.high) - 1)
    return _Run(int(points.low) + 1, max(0, top - int(points.low)))


def _distinct(points: Points, first: int, last: int) -> _Each:
    """Indices ``first..last`` of increasing points; only the last can equal ``high``."""
    if first == 1 and points.value(1) == points.first_value:
        first += 1  # a real range's first point can only equal low by rounding
    if last >= first and points.value(last) == points.last_value:
        last -= 1
    return _Each(points, first, max(0, last - first + 1))


def _scanned(points: Points, first: int, last: int) -> list[Stretch]:
    return [_Scan(points, first, last, points.first_value)]


def _last_true(predicate: Callable[[int], bool], low: int, high: int) -> int:
    """The last index in ``low..high`` where a predicate true on a prefix holds (``low - 1``
    if none)."""
    found = low - 1
    while low <= high:
        middle = (low + high) // 2
        if predicate(middle):
            found, low = middle, middle + 1
        else:
            high = middle - 1
    return found
