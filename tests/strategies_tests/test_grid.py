from __future__ import annotations

import time
import tracemalloc

import pytest

from hyperdeme import condition
from hyperdeme._errors import ConfigError
from hyperdeme._space import Params
from hyperdeme._trial import Candidate
from hyperdeme.strategies import GridSearch

from ._drive import drive, trial_for


def _fom(trial_id: int, params: dict[str, object]) -> float:
    return float(trial_id)


def test_the_full_product_without_defaults() -> None:
    space = Params([["--x", (0.0, 1.0)], ["--n", (1, 10)], ["--opt", ["sgd", "adam", "rms"]]])
    grid = GridSearch(space, grid_size=4)
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
    asked = drive(GridSearch(space, grid_size=3), _fom)
    assert {c.params["--k"] for c in asked} == {0, 4, 9}
    assert len(asked) == 6


def test_integer_grids_may_be_smaller() -> None:
    space = Params([["--n", (1, 3)]])
    asked = drive(GridSearch(space, grid_size=10), _fom)
    assert [c.params["--n"] for c in asked] == [1, 2, 3]


def test_points_equal_on_their_active_parameters_are_asked_once() -> None:
    space = Params(
        [["--opt", ["sgd", "adam"]], ["--momentum", (0.0, 1.0)], ["--n", (1, 2)]],
        conditions=[condition.equals("--momentum", "--opt", "sgd")],
    )
    asked = drive(GridSearch(space, grid_size=5), _fom)
    active = [tuple(space.active(c.params).items()) for c in asked]
    assert len(active) == len(set(active))
    # sgd: 5 momenta x 2 sizes; adam: momentum inactive, 2 sizes
    assert len(asked) == 5 * 2 + 2


def test_points_breaking_a_forbidden_value_rule_are_skipped() -> None:
    space = Params(
        [["--opt", ["sgd", "lbfgs"]], ["--batch", [16, 32, 64]]],
        conditions=[condition.equals("--opt", "--batch", 32, dependent_param_value="lbfgs")],
    )
    asked = drive(GridSearch(space, grid_size=3), _fom)
    pairs = {(c.params["--opt"], c.params["--batch"]) for c in asked}
    assert pairs == {("sgd", 16), ("sgd", 32), ("sgd", 64), ("lbfgs", 32)}


def test_the_baseline_comes_first_and_is_not_repeated() -> None:
    space = Params([["--x", 0.0, (0.0, 1.0)], ["--opt", "adam", ["sgd", "adam"]]])
    asked = drive(GridSearch(space, grid_size=3), _fom)
    assert asked[0].params == {"--x": 0.0, "--opt": "adam"}
    assert asked[0].info == {"strategy": "grid", "index": None, "baseline": True}
    assert len(asked) == 3 * 2  # the baseline is also a grid point
    assert sum(c.params == asked[0].params for c in asked) == 1


def test_the_baseline_off_the_grid_adds_one() -> None:
    space = Params([["--x", 0.3, (0.0, 1.0)], ["--opt", "adam", ["sgd", "adam"]]])
    asked = drive(GridSearch(space, grid_size=3), _fom)
    assert asked[0].params == {"--x": 0.3, "--opt": "adam"}
    assert len(asked) == 3 * 2 + 1


def test_a_huge_grid_is_never_materialized() -> None:
    space = Params([[f"--p{i}", (0.0, 1.0)] for i in range(7)])
    tracemalloc.start()
    start = time.perf_counter()
    try:
        grid = GridSearch(space, grid_size=10)
        first = [grid.ask() for _ in range(5)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - start
    assert grid.size == 10**7
    assert all(c is not None for c in first)
    assert [c.info["index"] for c in first if c is not None] == [0, 1, 2, 3, 4]
    assert peak < 1_000_000  # bytes; the product would need gigabytes
    assert elapsed < 1.0
    assert not grid.finished


def test_chunk_size_bounds_the_outstanding_candidates() -> None:
    space = Params([["--x", (0.0, 1.0)], ["--y", (0.0, 1.0)]])
    grid = GridSearch(space, grid_size=3, chunk_size=2)
    first, second = grid.ask(), grid.ask()
    assert first is not None
    assert second is not None
    assert grid.ask() is None
    assert grid.ask() is None
    grid.tell(trial_for(space, first, 1, 1.0))
    third = grid.ask()
    assert third is not None
    assert third.info["index"] == 2
    assert grid.ask() is None
    assert len(drive_rest(grid, space, [second, third])) == 9 - 3


def drive_rest(grid: GridSearch, space: Params, running: list[Candidate]) -> list[Candidate]:
    asked: list[Candidate] = []
    trial_id = 10
    while not grid.finished:
        while (candidate := grid.ask()) is not None:
            asked.append(candidate)
            running.append(candidate)
        trial_id += 1
        grid.tell(trial_for(space, running.pop(0), trial_id, 1.0))
    return asked


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"grid_size": 0}, "grid_size must be an int >= 1, got 0."),
        ({"grid_size": 2.5}, "grid_size must be an int >= 1, got 2.5."),
        ({"grid_size": True}, "grid_size must be an int >= 1, got True."),
        ({"grid_size": 3, "chunk_size": 0}, "chunk_size must be an int >= 1, got 0."),
        ({"grid_size": 3, "chunk_size": "4"}, "chunk_size must be an int >= 1, got '4'."),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    space = Params([["--x", (0.0, 1.0)]])
    with pytest.raises(ConfigError) as caught:
        GridSearch(space, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message
