from __future__ import annotations

import itertools
import tracemalloc
from collections.abc import Callable

import pytest

from hyperdeme import ConfigError, ConfigTypeError, Params, condition
from hyperdeme.strategies import ConcurrencyLimiter, GridConfig, GridSearch

from ._drive import Driver, drive


def _fom(trial_id: int, params: dict[str, object]) -> float:
    return float(trial_id)


def _grid(space: Params, grid_size: int) -> GridSearch:
    return GridSearch(space, GridConfig(grid_size=grid_size))


SPACE = Params([["--x", (0.0, 1.0)]])


def test_the_full_product_without_defaults() -> None:
    space = Params([["--x", (0.0, 1.0)], ["--n", (1, 10)], ["--opt", ["sgd", "adam", "rms"]]])
    grid = _grid(space, 4)
    assert grid.size == 4 * 4 * 3
    asked = drive(grid, _fom)
    assert len(asked) == 48
    points = {tuple(c.params.values()) for c in asked}
    assert len(points) == 48
    assert {c.params["--x"] for c in asked} == {0.0, 1 / 3, 2 / 3, 1.0}
    assert {c.params["--n"] for c in asked} == {1, 4, 7, 10}
    assert [c.info["index"] for c in asked] == list(range(48))


def test_value_lists_use_choice_grid() -> None:
    space = Params([["--k", list(range(10))], ["--opt", ["a", "b"]]])
    asked = drive(_grid(space, 3), _fom)
    assert {c.params["--k"] for c in asked} == {0, 4, 9}
    assert len(asked) == 6


def test_integer_grids_may_be_smaller() -> None:
    space = Params([["--n", (1, 3)]])
    asked = drive(_grid(space, 10), _fom)
    assert [c.params["--n"] for c in asked] == [1, 2, 3]


def test_points_equal_on_their_active_parameters_are_asked_once() -> None:
    space = Params(
        [["--opt", ["sgd", "adam"]], ["--momentum", (0.0, 1.0)], ["--n", (1, 2)]],
        conditions=[condition.equals("--momentum", "--opt", "sgd")],
    )
    asked = drive(_grid(space, 5), _fom)
    active = [tuple(space.active(c.params).items()) for c in asked]
    assert len(active) == len(set(active))
    # sgd: 5 momenta x 2 sizes; adam: momentum inactive, 2 sizes
    assert len(asked) == 5 * 2 + 2


def test_points_breaking_a_forbidden_value_rule_are_skipped() -> None:
    space = Params(
        [["--opt", ["sgd", "lbfgs"]], ["--batch", [16, 32, 64]]],
        conditions=[condition.equals("--opt", "--batch", 32, dependent_param_value="lbfgs")],
    )
    asked = drive(_grid(space, 3), _fom)
    pairs = {(c.params["--opt"], c.params["--batch"]) for c in asked}
    assert pairs == {("sgd", 16), ("sgd", 32), ("sgd", 64), ("lbfgs", 32)}


def test_the_baseline_comes_first_and_is_not_repeated() -> None:
    space = Params([["--x", 0.0, (0.0, 1.0)], ["--opt", "adam", ["sgd", "adam"]]])
    asked = drive(_grid(space, 3), _fom)
    assert asked[0].params == {"--x": 0.0, "--opt": "adam"}
    assert asked[0].info == {"strategy": "grid", "index": None, "baseline": True}
    assert len(asked) == 3 * 2  # the baseline is also a grid point
    assert sum(c.params == asked[0].params for c in asked) == 1


def test_the_baseline_off_the_grid_adds_one() -> None:
    space = Params([["--x", 0.3, (0.0, 1.0)], ["--opt", "adam", ["sgd", "adam"]]])
    asked = drive(_grid(space, 3), _fom)
    assert asked[0].params == {"--x": 0.3, "--opt": "adam"}
    assert len(asked) == 3 * 2 + 1


def test_a_huge_grid_is_never_materialized() -> None:
    space = Params([[f"--p{i}", (0.0, 1.0)] for i in range(7)])
    tracemalloc.start()
    try:
        grid = _grid(space, 10)
        driver = Driver(grid)
        first = [driver.take() for _ in range(5)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert grid.size == 10**7
    assert grid.budget == 10**7
    assert [c.info["index"] for c in first] == [0, 1, 2, 3, 4]
    assert peak < 1_000_000  # bytes; the product would need gigabytes
    assert not grid.finished


BILLION_SPACE = [
    ["--lr", (1e-5, 1.0), {"log": True}],
    ["--x", (0.0, 1.0)],
    ["--units", (1, 64)],
    ["--samples", (1, 10**12), {"log": True}],
    ["--opt", ["sgd", "adam", "rms"]],
]


def test_a_billion_points_per_range_take_constant_memory() -> None:
    """grid_size=10**9: each range's grid is a lazy axis, the product an odometer; building
    the strategy and asking its first points allocates kilobytes, not gigabytes."""
    space = Params(BILLION_SPACE)
    tracemalloc.start()
    try:
        grid = _grid(space, 10**9)
        driver = Driver(grid)
        first = [driver.take() for _ in range(5)]
        budget = grid.budget
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [len(axis) for axis in grid.grids] == [10**9, 10**9, 64, 406_307_618, 3]
    assert grid.size == 10**9 * 10**9 * 64 * 406_307_618 * 3
    assert budget == grid.size
    assert [c.info["index"] for c in first] == [0, 1, 2, 3, 4]
    assert first[0].params == {
        "--lr": 1e-5,
        "--x": 0.0,
        "--units": 1,
        "--samples": 1,
        "--opt": "sgd",
    }
    assert [(c.params["--samples"], c.params["--opt"]) for c in first] == [
        (1, "sgd"), (1, "adam"), (1, "rms"), (2, "sgd"), (2, "adam"),
    ]  # fmt: skip
    assert peak < 1_000_000  # bytes
    assert not grid.finished


def test_a_billion_point_grid_knows_whether_the_baseline_is_on_it() -> None:
    on_grid = [[flag, default, domain, *rest] for (flag, domain, *rest), default in zip(
        BILLION_SPACE, [1.0, 0.0, 32, 1000, "adam"], strict=True)]  # fmt: skip
    grid = _grid(Params(on_grid), 10**9)
    assert grid.budget == grid.size
    baseline = Driver(grid).take()
    assert baseline.params == {"--lr": 1.0, "--x": 0.0, "--units": 32, "--samples": 1000,
                               "--opt": "adam"}  # fmt: skip
    off_grid = [[*entry[:1], 0.5, *entry[2:]] if entry[0] == "--x" else entry for entry in on_grid]
    assert _grid(Params(off_grid), 10**9).budget == grid.size + 1


def test_positions_are_those_of_the_full_product() -> None:
    space = Params([["--n", (1, 3)], ["--x", (0.0, 1.0)], ["--opt", ["a", "b"]]])
    asked = drive(_grid(space, 3), _fom)
    expected = list(itertools.product([1, 2, 3], [0.0, 0.5, 1.0], ["a", "b"]))
    assert [tuple(c.params.values()) for c in asked] == expected
    assert [c.info["index"] for c in asked] == list(range(len(expected)))


def test_the_budget_is_the_product_plus_the_baseline() -> None:
    with_defaults = Params([["--x", 0.3, (0.0, 1.0)], ["--opt", "adam", ["sgd", "adam"]]])
    assert _grid(with_defaults, 3).budget == 3 * 2 + 1
    without = Params([["--x", (0.0, 1.0)], ["--opt", ["sgd", "adam"]]])
    assert _grid(without, 3).budget == 3 * 2


def test_a_grid_takes_no_seed() -> None:
    space = Params([["--x", 0.3, (0.0, 1.0)]])
    assert GridConfig(grid_size=2).strategy(space, seed=5).seed == _grid(space, 2).seed
    with pytest.raises(TypeError):
        GridSearch(space, GridConfig(), seed=5)  # type: ignore[call-arg]


def test_crayai_defaults() -> None:
    grid = GridSearch(Params([["--x", (0.0, 1.0)]]))
    assert grid.config == GridConfig(grid_size=5)
    assert grid.size == 5


def test_a_limiter_bounds_the_outstanding_candidates() -> None:
    space = Params([["--x", (0.0, 1.0)], ["--y", (0.0, 1.0)]])
    grid = _grid(space, 3)
    limited = ConcurrencyLimiter(grid, max_concurrent=2)
    assert limited.max_concurrent == 2
    assert (limited.space, limited.seed, limited.budget) == (space, grid.seed, 9)
    driver = Driver(limited)
    driver.take()
    driver.take()
    assert driver.ask() is None
    assert driver.ask() is None  # the refused id 3 is offered again
    assert (limited.outstanding, grid.outstanding) == (2, 2)
    driver.tell(1, 1.0)
    third = driver.take()
    assert driver.last_id == 3
    assert third.info["index"] == 2
    assert driver.ask() is None

    def fom(trial_id: int, params: dict[str, object]) -> float:
        assert limited.outstanding <= 2
        return 1.0

    # ask whatever the limiter allows, tell the oldest first
    assert len(driver.run(fom, parallel=100)) == 9 - 3
    assert limited.finished
    assert grid.finished


def test_a_limited_grid_asks_the_same_points() -> None:
    space = Params([["--x", 0.2, (0.0, 1.0)], ["--opt", "adam", ["sgd", "adam"]]])
    limited = ConcurrencyLimiter(_grid(space, 4), max_concurrent=3)
    assert drive(limited, _fom, parallel=10) == drive(_grid(space, 4), _fom)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: GridConfig(grid_size=0), ConfigError, "grid_size must be an integer >= 1, got 0."),
        (
            lambda: GridConfig(grid_size=2.5),  # type: ignore[arg-type]
            ConfigTypeError,
            "grid_size must be an integer >= 1, got 2.5.",
        ),
        (
            lambda: GridConfig(grid_size=True),
            ConfigTypeError,
            "grid_size must be an integer >= 1, got True.",
        ),
        (
            lambda: ConcurrencyLimiter(_grid(SPACE, 3), max_concurrent=0),
            ConfigError,
            "max_concurrent must be an integer >= 1, got 0.",
        ),
        (
            lambda: ConcurrencyLimiter(_grid(SPACE, 3), max_concurrent="4"),  # type: ignore[arg-type]
            ConfigTypeError,
            "max_concurrent must be an integer >= 1, got '4'.",
        ),
    ],
)
def test_bad_arguments(build: Callable[[], object], error: type[ConfigError], message: str) -> None:
    with pytest.raises(error) as caught:
        build()
    assert type(caught.value) is error
    assert str(caught.value) == message
