"""OptunaSearch: ask-and-tell, define-by-run conditions, pruned and failed trials, a
missing Optuna refused before any evaluation."""

from __future__ import annotations

import math
import sys
from typing import Any

import optuna
import pytest

import hyperdeme
from hyperdeme import Params, Status, Trial
from hyperdeme.strategies import OptunaSearch

from ._drive import Driver, drive

SPACE = Params(
    [
        ["--opt", ["sgd", "adam"]],
        ["--lr", (1e-5, 1.0), {"log": True}],
        ["--layers", (1, 6)],
        ["--momentum", 0.5, (0.0, 0.99)],
    ],
    conditions=[hyperdeme.condition.equals("--momentum", "--opt", "sgd")],
)


def fom(trial_id: int, p: dict[str, Any]) -> float:
    return abs(math.log10(p["--lr"]) + 2) + abs(p["--layers"] - 3)


@pytest.mark.parametrize("sampler", ["tpe", "random", "qmc", "cmaes", "nsga2"])
def test_every_named_sampler_searches_the_space(sampler: str) -> None:
    strategy = OptunaSearch(SPACE, sampler=sampler, max_evals=12, seed=1)
    candidates = drive(strategy, fom)
    assert len(candidates) == 12
    assert all(SPACE.allowed(c.params) for c in candidates)
    assert len(strategy.study.trials) >= 12


def test_a_dependent_is_suggested_only_when_its_condition_holds() -> None:
    strategy = OptunaSearch(SPACE, sampler="random", max_evals=20, seed=2)
    drive(strategy, fom)
    for trial in strategy.study.trials:
        assert ("--momentum" in trial.params) == (trial.params["--opt"] == 0)  # sgd: index 0


def test_the_same_seed_gives_the_same_candidates() -> None:
    def run() -> list[dict[str, Any]]:
        return [c.params for c in drive(OptunaSearch(SPACE, max_evals=15, seed=4), fom)]

    assert run() == run()


def test_a_sampler_object_is_copied_so_each_run_starts_it_afresh() -> None:
    sampler = optuna.samplers.TPESampler(seed=9)
    first = [c.params for c in drive(OptunaSearch(SPACE, sampler=sampler, max_evals=15), fom)]
    again = [c.params for c in drive(OptunaSearch(SPACE, sampler=sampler, max_evals=15), fom)]
    assert first == again


def test_tpe_learns_more_than_random_search() -> None:
    space = Params([[f"--x{i}", (-5.0, 5.0)] for i in range(3)])

    def sphere(trial_id: int, p: dict[str, Any]) -> float:
        return sum((p[f"--x{i}"] - 1.0) ** 2 for i in range(3))

    def best(sampler: str, seed: int) -> float:
        candidates = drive(OptunaSearch(space, sampler=sampler, max_evals=60, seed=seed), sphere)
        return min(sphere(0, c.params) for c in candidates)

    assert sum(best("tpe", s) for s in (1, 2, 3)) < sum(best("random", s) for s in (1, 2, 3))


def test_stopped_trials_are_told_pruned_with_their_steps_and_failed_ones_fail() -> None:
    strategy = OptunaSearch(SPACE, sampler="random", max_evals=3, seed=1)
    driver = Driver(strategy)
    for _ in range(3):
        driver.take()
    done = driver.trial(1, 0.5)
    stopped = Trial(
        id=2,
        params=driver.candidate(2).params,
        fom=2.0,
        status=Status.STOPPED,
        intermediate={1: 3.0, 3: 2.0},
        candidate=driver.candidate(2),
    )
    for trial in (done, stopped, driver.trial(3, math.inf)):
        strategy.tell(trial)
    states = [t.state for t in strategy.study.trials]
    assert states == [
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
        optuna.trial.TrialState.FAIL,
    ]
    assert strategy.study.trials[0].value == 0.5
    assert strategy.study.trials[1].intermediate_values == {1: 3.0, 3: 2.0}


def test_no_point_is_run_twice_and_a_finite_space_ends_when_all_were_seen() -> None:
    space = Params([["--a", [1, 2, 3]], ["--b", (0, 2)]])  # 9 points
    candidates = drive(OptunaSearch(space, sampler="tpe", max_evals=50, seed=3), lambda i, p: 1.0)
    keys = [(c.params["--a"], c.params["--b"]) for c in candidates]
    assert len(keys) == len(set(keys)) == 9


def test_the_study_minimises_the_scores_it_is_told() -> None:
    strategy = OptunaSearch(SPACE, max_evals=2, seed=1)
    assert strategy.study.directions == [optuna.study.StudyDirection.MINIMIZE]


def test_without_optuna_the_optimizer_is_refused_before_any_evaluation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna raises ImportError
    evaluated: list[dict[str, Any]] = []
    evaluator = hyperdeme.Evaluator(lambda p: evaluated.append(p) or 0.0)
    with pytest.raises(hyperdeme.ConfigError, match=r"pip install 'hyperdeme\[optuna\]'"):
        hyperdeme.OptunaOptimizer(evaluator, sampler="tpe", max_evals=3)
    assert evaluated == []


def test_an_unknown_sampler_says_what_is_allowed() -> None:
    with pytest.raises(hyperdeme.ConfigError, match="one of tpe, cmaes, gp, qmc, random, nsga2"):
        hyperdeme.OptunaOptimizer(sampler="bayes")
    with pytest.raises(hyperdeme.ConfigTypeError, match="must be an Optuna sampler"):
        hyperdeme.OptunaOptimizer(sampler=42)


def test_it_records_the_sampler_and_the_budget() -> None:
    strategy = OptunaSearch(SPACE, sampler=optuna.samplers.TPESampler(seed=1), max_evals=7)
    assert strategy.describe() == {
        "type": "OptunaSearch",
        "settings": {"sampler": "optuna.samplers._tpe.sampler.TPESampler", "max_evals": 7},
    }
    assert strategy.budget_settings == ("max_evals",)
