"""``EvaluationLimit``: a strategy's plan cut after N evaluations, everything else its own."""

from __future__ import annotations

from typing import Any

import pytest

import hyperdeme
from hyperdeme.strategies import (
    ConcurrencyLimiter,
    EvaluationLimit,
    GeneticConfig,
    GeneticSearch,
    GridConfig,
    GridSearch,
    RandomConfig,
    RandomSearch,
)

from ._drive import Driver, drive

SPACE = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)], ["--n", 2, (1, 9)]])


def fom(trial_id: int, params: dict[str, Any]) -> float:
    return float(params["--x"] + params["--n"])


def test_the_plan_is_cut_after_max_evals_asks() -> None:
    limited = EvaluationLimit(RandomSearch(SPACE, RandomConfig(num_iters=10), seed=4), max_evals=3)
    asked = drive(limited, fom, parallel=2)
    alone = drive(RandomSearch(SPACE, RandomConfig(num_iters=10), seed=4), fom, parallel=2)
    assert [c.params for c in asked] == [c.params for c in alone[:3]]
    assert limited.finished
    assert limited.budget == 3


def test_a_shorter_plan_is_not_lengthened() -> None:
    grid = ConcurrencyLimiter(GridSearch(SPACE, GridConfig(grid_size=2)), max_concurrent=2)
    limited = EvaluationLimit(grid, max_evals=50)
    assert limited.budget == grid.budget
    assert len(drive(limited, fom, parallel=4)) == grid.budget


def test_it_is_the_wrapped_strategy_for_a_resume() -> None:
    ga = GeneticSearch(SPACE, GeneticConfig(max_evals=40), seed=2)
    limited = EvaluationLimit(ga, max_evals=7)
    assert limited.describe() == ga.describe()
    assert limited.budget_settings == ga.budget_settings == ("max_evals", "generations")
    assert limited.seed == ga.seed
    assert limited.generation_size == ga.generation_size


def test_a_waiting_strategy_is_not_counted() -> None:
    """An ask the wrapped strategy refuses (a barrier) does not use up the limit."""
    grid = ConcurrencyLimiter(GridSearch(SPACE, GridConfig(grid_size=3)), max_concurrent=1)
    limited = EvaluationLimit(grid, max_evals=2)
    driver = Driver(limited)
    driver.take()
    assert driver.ask() is None
    driver.tell(1, 1.0)
    driver.take()
    assert driver.ask() is None
    driver.tell(2, 1.0)
    assert limited.finished


def test_max_evals_must_be_a_count() -> None:
    with pytest.raises(hyperdeme.ConfigError) as caught:
        EvaluationLimit(RandomSearch(SPACE), max_evals=0)
    assert caught.value.name == "max_evals"
