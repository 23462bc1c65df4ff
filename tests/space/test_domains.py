"""Range and Choice: parsing of one spec entry, sampling, grids, clipping."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperdeme import ConfigError
from hyperdeme._space import Choice, Range
from hyperdeme._space._domains import parse_parameter
from hyperdeme._space._values import same_value, value_key
from spaces import choice_specs, range_specs


def _parse(entry: Any) -> Range | Choice:
    return parse_parameter(entry, 0)


# -- the crayai forms -------------------------------------------------------------------------


def test_real_range_with_default() -> None:
    p = _parse(["--learning_rate", 1e-4, (1e-6, 1)])
    assert p == Range("--learning_rate", 1e-6, 1.0, False, False, 1e-4, True)
    assert type(p.high) is float


def test_integer_range_without_default() -> None:
    p = _parse(["--units", (1, 10)])
    assert p == Range("--units", 1, 10, True, False, None, False)


def test_integer_range_default_stays_int() -> None:
    p = _parse(["--units", 4, (1, 10)])
    assert isinstance(p, Range)
    assert p.default == 4
    assert type(p.default) is int


def test_real_range_int_default_becomes_float() -> None:
    p = _parse(["--x", 1, (0.0, 2.0)])
    assert p.default == 1.0
    assert type(p.default) is float


def test_numpy_bounds_become_plain() -> None:
    p = _parse(["--n", np.int64(3), (np.int64(1), np.int64(5))])
    assert isinstance(p, Range)
    assert p.integer
    assert type(p.low) is int
    assert type(p.default) is int


def test_choice_with_default() -> None:
    p = _parse(["--optimizer", "sgd", ["sgd", "gd", "adam"]])
    assert p == Choice("--optimizer", ("sgd", "gd", "adam"), "sgd", True)


def test_choice_default_is_the_lists_own_value() -> None:
    p = _parse(["--scale", 1, [1.0, 2.0]])
    assert p.default == 1.0
    assert type(p.default) is float


def test_choice_without_default() -> None:
    p = _parse(["--layers", [1, 2, 3, 4]])
    assert p == Choice("--layers", (1, 2, 3, 4), None, False)


def test_flag_with_space_kept_verbatim() -> None:
    assert _parse(["--optimizer lr", (0.1, 1.0)]).flag == "--optimizer lr"


@pytest.mark.parametrize(
    "entry",
    [["--lr", 1e-3, (1e-6, 1.0), {"log": True}], ["--lr", (1e-6, 1.0), {"log": True}]],
)
def test_log_forms(entry: list[Any]) -> None:
    p = _parse(entry)
    assert isinstance(p, Range)
    assert p.log


def test_log_false_option_is_accepted() -> None:
    p = _parse(["--lr", (1e-6, 1.0), {"log": False}])
    assert isinstance(p, Range)
    assert not p.log


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "error", "match"),
    [
        ("--lr", TypeError, "parameter 0 must be a list"),
        ([], ConfigError, "parameter 0 is empty"),
        ([5, (0, 1)], TypeError, "flag must be a string, got 5"),
        (["", (0, 1)], ConfigError, "flag must not be empty"),
        (["  ", (0, 1)], ConfigError, "flag must not be empty"),
        (["--x=1", (0, 1)], ConfigError, "flag '--x=1' contains '='; a flag is passed as"),
        (["--x\n", (0, 1)], ConfigError, r"flag '--x\\n' contains '\\n'"),
        (["--x\r", (0, 1)], ConfigError, r"flag '--x\\r' contains '\\r'"),
        (["--x\0", (0, 1)], ConfigError, r"flag '--x\\x00' contains '\\x00'"),
        (["--x"], ConfigError, "--x: expected .* got 1 elements"),
        (["--x", 1, 2, (0, 5)], ConfigError, "--x: expected .* got 4 elements"),
        (["--x", 5], TypeError, "--x: the domain must be a tuple"),
        (["--x", (1, 2, 3)], ConfigError, r"--x: a range must be \(low, high\)"),
        (["--x", (5, 1)], ConfigError, r"--x: the lower bound must be below .* \(5, 1\)"),
        (["--x", (1, 1)], ConfigError, "--x: the lower bound must be below"),
        (["--x", (float("nan"), 1.0)], ConfigError, "--x: the lower bound must be finite"),
        (["--x", (0.0, math.inf)], ConfigError, "--x: the upper bound must be finite"),
        (["--x", (False, True)], TypeError, "--x: the lower bound must be a number"),
        (["--x", (0, True)], TypeError, "--x: the upper bound must be a number"),
        (["--x", ("a", "b")], TypeError, "--x: the lower bound must be a number"),
        (["--x", 11, (1, 10)], ConfigError, r"--x: the default must be an integer in \[1, 10\]"),
        (["--x", 2.5, (1, 10)], ConfigError, "--x: the default must be an integer.* got 2.5"),
        (["--x", 3.0, (0.0, 1.0)], ConfigError, r"--x: the default must be a number.* got 3.0"),
        (["--x", "a", (0.0, 1.0)], ConfigError, "--x: the default must be a number.* got 'a'"),
        (["--x", True, (0, 5)], ConfigError, "--x: the default .* got True"),
        (["--x", "d", ["a", "b"]], ConfigError, r"--x: the default 'd' is not in the value list"),
        (["--x", True, [1, 2]], ConfigError, "--x: the default True is not in the value list"),
        (["--x", []], ConfigError, "--x: the value list must not be empty"),
        (["--x", [1, 2, 1]], ConfigError, "--x: the value list has 1 twice"),
        (["--x", [1, 1.0]], ConfigError, "--x: the value list has 1.0 twice"),
        (["--x", [1.0, math.nan]], ConfigError, "--x: values must be finite, got nan"),
        (["--x", [1, math.inf, 2]], ConfigError, "--x: values must be finite, got inf"),
        (["--x", [True, 1, False, 0, True]], ConfigError, "--x: the value list has True twice"),
        (["--x", [[1, 2], [1.0, 2.0]]], ConfigError, r"--x: the value list has \[1.0, 2.0\] twice"),
        (["--x", [{"a": [1]}, {"a": [1.0]}]], ConfigError, "--x: the value list has {'a': "),
        (["--x", [*range(50_000), 49_999.0]], ConfigError, "--x: the value list has 49999.0 tw"),
        (["--x", ["a", [math.nan]]], ConfigError, r"--x: values must be finite, got \[nan\]"),
        (["--x", [object()]], TypeError, "--x: values must be JSON-able"),
        (["--x", (0.0, 1.0), {"log": True}], ConfigError, r"--x: a log-scale range .* > 0"),
        (["--x", (-1, 10), {"log": True}], ConfigError, r"--x: a log-scale .* \(-1, 10\)"),
        (["--x", (0.1, 1.0), {"lg": True}], ConfigError, "--x: unknown option 'lg'; allowed: log"),
        (["--x", (0.1, 1.0), {"log": "yes"}], TypeError, "--x: the log option must be True"),
        (["--x", [1, 2], {"log": True}], ConfigError, "--x: the log option applies to ranges"),
    ],
)
def test_bad_entries(entry: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        _parse(entry)


def test_range_checks_itself() -> None:
    with pytest.raises(TypeError, match="an integer range needs int bounds"):
        Range("--x", 0.5, 2, integer=True)


def test_config_error_is_value_error() -> None:
    with pytest.raises(ValueError, match="lower bound"):
        _parse(["--x", (2, 1)])


# -- Range behaviour --------------------------------------------------------------------------


def test_integer_sample_covers_both_ends() -> None:
    p = Range("--n", 1, 3, integer=True)
    rng = np.random.default_rng(0)
    draws = {p.sample(rng) for _ in range(200)}
    assert draws == {1, 2, 3}
    assert all(type(d) is int for d in draws)


def test_integer_log_sample_covers_both_ends() -> None:
    p = Range("--n", 1, 4, integer=True, log=True)
    rng = np.random.default_rng(0)
    assert {p.sample(rng) for _ in range(300)} == {1, 2, 3, 4}


def test_log_sample_spreads_over_decades() -> None:
    p = Range("--lr", 1e-6, 1.0, integer=False, log=True)
    rng = np.random.default_rng(1)
    draws = [p.sample(rng) for _ in range(600)]
    assert sum(d < 1e-3 for d in draws) > 200  # half the decades are below 1e-3


def test_grids() -> None:
    assert Range("--x", 0.0, 1.0, False).grid(3) == [0.0, 0.5, 1.0]
    assert Range("--x", 1e-4, 1.0, False, log=True).grid(5) == pytest.approx(
        [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    )
    assert Range("--n", 1, 3, True).grid(10) == [1, 2, 3]
    assert Range("--n", 0, 10, True).grid(3) == [0, 5, 10]
    assert Range("--x", 0.0, 1.0, False).grid(1) == [0.5]
    assert Range("--x", 0.0, 1.0, False, default=0.2, has_default=True).grid(1) == [0.2]
    assert Range("--x", 1.0, 100.0, False, log=True).grid(1) == pytest.approx([10.0])


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_grid_size(k: Any) -> None:
    with pytest.raises(ConfigError, match=f"--x: the number of grid points must be >= 1, got {k}"):
        Range("--x", 0.0, 1.0, False).grid(k)
    with pytest.raises(ConfigError, match="--y: the number of grid points"):
        Choice("--y", (1, 2)).grid(k)


def test_clip() -> None:
    r = Range("--x", 0.0, 1.0, False)
    assert r.clip(2.0) == 1.0
    assert r.clip(-math.inf) == 0.0
    n = Range("--n", 1, 5, True)
    assert n.clip(2.6) == 3
    assert type(n.clip(2.6)) is int
    assert n.clip(99.0) == 5
    with pytest.raises(ConfigError, match="--x: cannot clip nan"):
        r.clip(math.nan)


def test_contains() -> None:
    n = Range("--n", 1, 5, True)
    assert n.contains(3)
    assert not n.contains(3.0)
    assert not n.contains(True)
    assert not n.contains(6)
    r = Range("--x", 0.0, 1.0, False)
    assert r.contains(1)
    assert not r.contains("0.5")
    assert not r.contains(math.nan)


# -- Choice behaviour -------------------------------------------------------------------------


def test_choice_index_and_contains() -> None:
    c = Choice("--opt", ("sgd", 1, True, None))
    assert c.index("sgd") == 0
    assert c.index(True) == 2
    assert c.index(None) == 3
    assert not c.contains(1.5)
    with pytest.raises(ConfigError, match=r"--opt: 'adam' is not in the value list"):
        c.index("adam")


def test_choice_keeps_bools_apart_from_ints() -> None:
    c = Choice("--x", (1, 2))
    assert not c.contains(True)
    assert Choice("--y", (True, 1)).index(1) == 1


def test_choice_grid() -> None:
    c = Choice("--x", tuple(range(10)))
    assert c.grid(20) == list(range(10))
    assert c.grid(2) == [0, 9]
    assert c.grid(4) == [0, 3, 6, 9]
    assert c.grid(1) == [4]
    assert Choice("--x", (1, 2, 3), default=3, has_default=True).grid(1) == [3]


def test_choice_sample_uniform() -> None:
    c = Choice("--x", ("a", "b", "c"))
    rng = np.random.default_rng(0)
    draws = [c.sample(rng) for _ in range(300)]
    assert {d: draws.count(d) > 70 for d in "abc"} == {"a": True, "b": True, "c": True}


# -- properties -------------------------------------------------------------------------------


@given(range_specs(), st.integers(0, 2**32))
def test_range_samples_inside(entry: list[Any], seed: int) -> None:
    p = _parse(entry)
    assert isinstance(p, Range)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        value = p.sample(rng)
        assert p.contains(value)
        assert type(value) is (int if p.integer else float)


@given(range_specs(), st.integers(1, 12))
def test_range_grid_inside_sorted(entry: list[Any], k: int) -> None:
    p = _parse(entry)
    assert isinstance(p, Range)
    grid = p.grid(k)
    assert 1 <= len(grid) <= k
    assert grid == sorted(set(grid))
    assert all(p.contains(v) and type(v) is (int if p.integer else float) for v in grid)
    if k >= 2:
        assert grid[0] == p.low
        assert grid[-1] == p.high


@given(range_specs(), st.floats(allow_nan=False))
def test_clip_lands_inside(entry: list[Any], value: float) -> None:
    p = _parse(entry)
    assert isinstance(p, Range)
    assert p.contains(p.clip(value))


@given(choice_specs(), st.integers(0, 2**32), st.integers(1, 10))
def test_choice_sample_and_grid(entry: list[Any], seed: int, k: int) -> None:
    p = _parse(entry)
    assert isinstance(p, Choice)
    rng = np.random.default_rng(seed)
    assert all(p.contains(p.sample(rng)) for _ in range(10))
    grid = p.grid(k)
    assert len(grid) == min(k, len(p.values))
    indices = [p.index(v) for v in grid]
    assert indices == sorted(set(indices))
    if k >= 2:
        assert indices[0] == 0
        assert indices[-1] == len(p.values) - 1


@given(st.one_of(range_specs(), choice_specs()), st.integers(0, 2**32))
def test_seeded_draws_reproducible(entry: list[Any], seed: int) -> None:
    p = _parse(entry)
    first = [p.sample(np.random.default_rng(seed)) for _ in range(3)]
    second = [p.sample(np.random.default_rng(seed)) for _ in range(3)]
    assert first == second


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0.0, 1.0]) | st.text("ab"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("ab"), inner, max_size=2),
    max_leaves=6,
)


@given(a=_JSON, b=_JSON)
def test_value_key_agrees_with_same_value(a: Any, b: Any) -> None:
    """Repeats are found by hashing (linear, issue 18.8): the key must say "same" exactly
    when the pairwise comparison did."""
    assert (value_key(a) == value_key(b)) == same_value(a, b)


def test_distinct_mixed_values_pass() -> None:
    values = [1, True, 0, False, None, "1", [1], [True, 2], (1,), {"a": 1}, {"a": True, "b": 2}]
    assert _parse(["--x", values]).values == tuple(values)
