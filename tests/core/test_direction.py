"""The one conversion from the program's FoM to the score searches minimise."""

from __future__ import annotations

import math

import pytest

from hyperdeme import Status, Trial
from hyperdeme._core._direction import (
    best_of,
    is_better,
    no_best,
    rank_key,
    score,
    scored,
    wording,
)


def test_minimising_the_score_is_the_fom() -> None:
    for fom in (-2.5, 0.0, 3.0, math.inf):
        assert score(fom, "minimize") == fom
    assert math.isnan(score(math.nan, "minimize"))


def test_maximising_the_score_is_the_negated_fom_and_no_non_finite_fom_is_best() -> None:
    assert [score(fom, "maximize") for fom in (-2.5, 0.0, 3.0)] == [2.5, -0.0, -3.0]
    # a failed trial's inf and a diverged -inf or +inf can never be the best
    assert score(math.inf, "maximize") == math.inf
    assert score(-math.inf, "maximize") == math.inf
    assert math.isnan(score(math.nan, "maximize"))


def test_a_strategy_sees_scores_and_the_trial_keeps_the_programs_numbers() -> None:
    trial = Trial(id=4, params={"--x": 1}, fom=0.9, intermediate={1: 0.5, 3: 0.8})
    seen = scored(trial, "maximize")
    assert (seen.id, seen.params, seen.fom, seen.intermediate) == (
        4, {"--x": 1}, -0.9, {1: -0.5, 3: -0.8},
    )  # fmt: skip
    assert (trial.fom, trial.intermediate) == (0.9, {1: 0.5, 3: 0.8})
    assert scored(trial, "minimize") is trial
    failed = scored(Trial(id=5, params={}, status=Status.FAILED), "maximize")
    assert failed.fom == math.inf


def test_the_best_is_the_lowest_or_the_highest_successful_trial_earliest_among_equals() -> None:
    trials = [
        Trial(id=1, params={}, fom=0.2),
        Trial(id=2, params={}, fom=0.9),
        Trial(id=3, params={}, fom=0.9),
        Trial(id=4, params={}, fom=5.0, status=Status.STOPPED),
        Trial(id=5, params={}, status=Status.FAILED),  # fom inf
        Trial(id=6, params={}, fom=-1.0),
    ]
    assert best_of(trials, "minimize") is trials[5]
    assert best_of(trials, "maximize") is trials[1]
    assert [t.id for t in sorted(trials[:3], key=rank_key("maximize"))] == [2, 3, 1]
    assert best_of(trials[3:5], "maximize") is None


def test_better_worst_and_wording() -> None:
    assert is_better(0.9, 0.2, "maximize")
    assert not is_better(0.2, 0.9, "maximize")
    assert is_better(0.2, 0.9, "minimize")
    assert not is_better(0.9, 0.9, "maximize")
    assert is_better(-5.0, no_best("maximize"), "maximize")
    assert is_better(5.0, no_best("minimize"), "minimize")
    assert (no_best("minimize"), no_best("maximize")) == (math.inf, -math.inf)
    assert (wording("minimize"), wording("maximize")) == ("lower is better", "higher is better")


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_scores_order_like_the_direction(direction: str) -> None:
    foms = [0.3, -1.0, 2.0, 0.0]
    ranked = sorted(foms, key=lambda f: score(f, direction))  # type: ignore[arg-type]
    assert ranked == sorted(foms, reverse=direction == "maximize")
