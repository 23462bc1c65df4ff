"""Lazy grid axes: the same points as deduplicating numpy's whole array, in a few numbers.

The reference is the grid as it was computed before axes were lazy: numpy's
``linspace``/``geomspace`` of all ``k`` points, clipped (rounded for integer
ranges), ends set to the bounds, ``sorted(set(...))``.
"""

from __future__ import annotations

import math
import random
import tracemalloc
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperdeme import ConfigError
from hyperdeme._space import Choice, Range, _axes, _spacing
from hyperdeme._space._domains import parse_parameter
from spaces import range_specs


def reference(p: Range, k: int) -> list[int | float]:
    """The grid of ``k`` points of ``p``, listed in full (the pre-axis algorithm)."""
    if k == 1:
        return p.grid(1)
    space = np.geomspace if p.log else np.linspace
    points = [p.clip(float(x)) for x in space(p.low, p.high, k)]
    points[0], points[-1] = p.low, p.high
    return sorted(set(points))


def vectorized_reference(p: Range, k: int) -> np.ndarray:
    """The same for large ``k``, in numpy (int64 or float64)."""
    space = np.geomspace if p.log else np.linspace
    clipped = np.minimum(np.maximum(space(p.low, p.high, k), float(p.low)), float(p.high))
    values = np.floor(clipped + 0.5).astype(np.int64) if p.integer else clipped
    values[0], values[-1] = p.low, p.high
    return np.unique(values)


def lazy(p: Range, k: int) -> _axes.GridAxis:
    """``p.axis(k)``, computed lazily however small ``k`` is."""
    with mock.patch.object(_axes, "LISTED_UP_TO", 1):
        return p.axis(k)


def assert_same(axis: _axes.GridAxis, expected: np.ndarray, *, samples: int = 300) -> None:
    assert len(axis) == len(expected)
    assert np.array_equal(np.fromiter(iter(axis), dtype=expected.dtype, count=len(axis)), expected)
    positions = random.Random(len(expected)).sample(
        range(len(expected)), min(samples, len(expected))
    )
    for position in [0, len(expected) - 1, *positions]:
        assert axis[position] == expected[position]
    for position in positions[:50]:
        assert expected[position].item() in axis


@given(range_specs(), st.integers(1, 300))
def test_lazy_axes_are_the_listed_grid(entry: list[Any], k: int) -> None:
    p = parse_parameter(entry, 0)
    assert isinstance(p, Range)
    expected = reference(p, k)
    axis = lazy(p, k)
    assert list(axis) == expected
    assert [type(v) for v in axis] == [type(v) for v in expected]
    assert [axis[i] for i in range(-len(expected), 0)] == expected
    assert all(v in axis for v in expected)


@pytest.mark.parametrize(
    ("low", "high", "k"),
    [(1, 3, 10), (0, 10, 3), (2, 102, 5), (10, 1009, 10), (-1000, 1000, 2001), (0, 3, 11)],
)
@pytest.mark.parametrize("log", [False, True])
def test_small_integer_grids_are_unchanged(low: int, high: int, k: int, log: bool) -> None:
    if log and low <= 0:
        low = 1
    p = Range("--n", low, high, True, log)
    assert p.grid(k) == reference(p, k)
    assert list(lazy(p, k)) == reference(p, k)


# the kinds of stretch an axis is made of, each against the full array
LARGE = [
    pytest.param(1, 10**12, True, True, 300_000, id="log-int-dense-then-distinct"),
    pytest.param(5, 5 * 10**6, True, True, 300_000, id="log-int-transition"),
    pytest.param(10**8, 10**9, True, True, 100_000, id="log-int-distinct"),
    pytest.param(1, 2**62, True, True, 100_000, id="log-int-beyond-2**50"),
    pytest.param(1, 1024, True, True, 300_000, id="log-int-all-dense"),
    pytest.param(-500, 500, True, False, 300_000, id="int-dense"),
    pytest.param(0, 10**7, True, False, 300_000, id="int-distinct"),
    pytest.param(0, 10**6, True, False, 10**6 + 1, id="int-step-exactly-1"),
    pytest.param(0, 10**6, True, False, 10**6 + 5, id="int-step-just-below-1"),
    pytest.param(7, 10**6 + 20, True, False, 10**6, id="int-step-just-above-1"),
    pytest.param(3 * 10**12, 3 * 10**12 + 10**6 - 9, True, False, 10**6, id="int-near-1-large"),
    pytest.param(2**52, 2**52 + 10**6, True, False, 2 * 10**6, id="int-beyond-2**50"),
    pytest.param(1e-5, 1.0, False, True, 300_000, id="log-real"),
    pytest.param(1.0, 1.0000001, False, True, 300_000, id="log-real-finer-than-floats"),
    pytest.param(-3.0, 4.0, False, False, 300_000, id="real"),
    pytest.param(1.0, 1.0 + 1e-12, False, False, 100_000, id="real-finer-than-floats"),
]


@pytest.mark.parametrize(("low", "high", "integer", "log", "k"), LARGE)
def test_large_axes_are_the_deduplicated_array(
    low: float, high: float, integer: bool, log: bool, k: int
) -> None:
    p = Range("--x", low, high, integer, log)
    axis = p.axis(k)
    assert isinstance(axis, _axes.SpacedAxis)
    assert_same(axis, vectorized_reference(p, k))


def test_a_billion_points_per_axis_cost_a_few_numbers() -> None:
    params = [
        Range("--x", 0.0, 1.0, False),
        Range("--lr", 1e-5, 1.0, False, log=True),
        Range("--units", 1, 64, True),
        Range("--batch", 1, 1024, True, log=True),
        Range("--samples", 1, 10**12, True, log=True),
        Range("--seed", 0, 10**9, True),
    ]
    tracemalloc.start()
    try:
        axes = [p.axis(10**9) for p in params]
        ends = [(axis[0], axis[1], axis[-1]) for axis in axes]
        present = [axis[len(axis) // 2] in axis for axis in axes]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [len(axis) for axis in axes] == [10**9, 10**9, 64, 1024, 406_307_618, 10**9]
    assert ends[0] == (0.0, 1 / (10**9 - 1), 1.0)
    assert ends[2] == (1, 2, 64)
    assert ends[3] == (1, 2, 1024)
    assert ends[5] == (0, 1, 10**9)
    assert all(present)
    assert peak < 1_000_000  # bytes; listing one of these axes would take gigabytes


def test_an_axis_is_a_sequence() -> None:
    axis = lazy(Range("--n", 0, 10, True), 3)
    assert list(axis) == [0, 5, 10]
    assert (axis[-1], axis[1:], axis[::2]) == (10, [5, 10], [0, 10])
    with pytest.raises(IndexError, match="index 3 out of range for 3 points"):
        axis[3]
    assert 5 in axis
    assert 5.0 in axis
    assert 4 not in axis
    assert True not in Range("--n", 0, 1, True).axis(2)  # bools are no numbers here
    assert "5" not in axis
    assert math.nan not in lazy(Range("--x", 0.0, 1.0, False), 3)
    assert repr(axis) == "<SpacedAxis of 3 points: 0, 5, 10>"
    big = Range("--x", 0.0, 1.0, False).axis(10**6)
    assert repr(big).startswith("<SpacedAxis of 1000000 points: 0.0, 1.000001000001e-06, ")
    assert type(big[1]) is float
    assert type(Range("--n", 0, 10**9, True).axis(10**6)[1]) is int


def test_grid_still_gives_a_list() -> None:
    assert Range("--n", 1, 3, True).grid(10) == [1, 2, 3]
    assert isinstance(Range("--x", 0.0, 1.0, False).grid(5000), list)
    assert Choice("--c", tuple(range(10))).axis(4)[:] == [0, 3, 6, 9]
    assert 3 in Choice("--c", tuple(range(10))).axis(4)
    assert True not in Choice("--c", (1, 2)).axis(2)


def test_points_floats_cannot_order_are_refused() -> None:
    """Points closer together than floating-point error could come out of order (never
    seen with numpy's power, but not excluded); such an axis is refused, naming the flag,
    rather than deduplicated wrongly."""
    p = Range("--x", 1.0, 1.0 + 1e-13, False, log=True)
    assert len(p.axis(10**6)) == 451  # scanned: 451 distinct floats, in order

    def shuffled(self: Any, indices: np.ndarray) -> np.ndarray:
        return np.where(indices % 2 == 0, 1.0, 1.0 + 2**-52)

    with (
        mock.patch.object(_spacing.Points, "values", shuffled),
        pytest.raises(ConfigError, match=r"--x: grid_size=1000000 puts grid points closer"),
    ):
        p.axis(10**6)


def test_a_small_range_axis_is_listed_once_built() -> None:
    """The grid search reads a point per parameter per trial: an axis of at most
    LISTED_UP_TO points never computes one again after it is built."""
    small = Range("--x", 1e-5, 1.0, False, log=True).axis(_axes.LISTED_UP_TO)
    large = Range("--x", 1e-5, 1.0, False, log=True).axis(_axes.LISTED_UP_TO + 1)
    with mock.patch.object(_spacing.Points, "values", side_effect=AssertionError("computed")):
        assert len(list(small)) == len(small) == _axes.LISTED_UP_TO
        assert small[1234] in small
        with pytest.raises(AssertionError, match="computed"):
            large[1234]
