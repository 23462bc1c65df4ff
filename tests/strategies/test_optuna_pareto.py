"""OptunaSearch with several objectives: one direction per objective, the list of scores
told, a stopped trial pruned without reports, a repeated point told its scores again."""

from __future__ import annotations

import math
from typing import Any

import optuna
import pytest

import hyperdeme
from hyperdeme import Params, Status, Trial
from hyperdeme.strategies import OptunaSearch

from ._drive import Driver

SPACE = Params([["--x", (0.0, 1.0)], ["--y", (0.0, 1.0)]])
NAMES = ("loss", "size")


def two(driver: Driver, trial_id: int, **overrides: Any) -> Trial:
    """The ok trial of ``trial_id`` with both objectives' scores (``loss`` = x, ``size`` = y)."""
    candidate = driver.candidate(trial_id)
    x, y = candidate.params["--x"], candidate.params["--y"]
    fields: dict[str, Any] = {
        "id": trial_id,
        "params": dict(candidate.params),
        "fom": x,
        "status": Status.OK,
        "candidate": candidate,
        "objectives": {"loss": x, "size": y},
    }
    return Trial(**{**fields, **overrides})


def test_the_study_has_one_minimised_direction_per_objective() -> None:
    strategy = OptunaSearch(SPACE, sampler="nsga2", max_evals=4, objectives=NAMES, seed=1)
    assert strategy.study.directions == [optuna.study.StudyDirection.MINIMIZE] * 2


def test_a_completed_trial_is_told_its_scores_in_the_evaluators_order() -> None:
    strategy = OptunaSearch(SPACE, sampler="random", max_evals=3, objectives=NAMES, seed=1)
    driver = Driver(strategy)
    driver.take()
    trial = two(driver, 1)
    strategy.tell(trial)
    told = strategy.study.trials[0]
    assert told.state is optuna.trial.TrialState.COMPLETE
    assert told.values == [trial.objectives["loss"], trial.objectives["size"]]


def test_a_stopped_trial_is_pruned_without_reports_and_a_failed_one_fails() -> None:
    strategy = OptunaSearch(SPACE, sampler="nsga2", max_evals=3, objectives=NAMES, seed=1)
    driver = Driver(strategy)
    for _ in range(3):
        driver.take()
    stopped = two(driver, 1, status=Status.STOPPED, intermediate={1: 3.0, 3: 2.0})
    missing = two(driver, 2, objectives={"loss": 0.5})  # "ok" without every objective
    failed = two(driver, 3, status=Status.FAILED, fom=math.inf, objectives={})
    for trial in (stopped, missing, failed):
        strategy.tell(trial)
    states = [t.state for t in strategy.study.trials]
    assert states == [
        optuna.trial.TrialState.PRUNED,
        optuna.trial.TrialState.FAIL,
        optuna.trial.TrialState.FAIL,
    ]
    assert strategy.study.trials[0].intermediate_values == {}


def test_a_point_suggested_again_is_told_the_earlier_scores() -> None:
    space = Params([["--x", [0.0, 1.0]], ["--y", [0.0, 1.0]]])  # 4 points
    strategy = OptunaSearch(space, sampler="random", max_evals=4, objectives=NAMES, seed=2)
    driver = Driver(strategy)
    while not strategy.finished:
        driver.take()
        strategy.tell(two(driver, driver.last_id))
    complete = [t for t in strategy.study.trials if t.state.name == "COMPLETE"]
    assert len(complete) > 4  # the random sampler suggested points again
    for trial in complete:  # each, a repeat or not, was told the scores of its point
        x, y = (space["--x"].values[trial.params["--x"]], space["--y"].values[trial.params["--y"]])
        assert trial.values == [x, y]


def test_a_single_fom_records_no_objectives_so_old_journals_resume() -> None:
    assert "objectives" not in OptunaSearch(SPACE, max_evals=3).describe()["settings"]
    described = OptunaSearch(SPACE, max_evals=3, objectives=NAMES).describe()
    assert described["settings"]["objectives"] == NAMES


def test_cmaes_is_refused_for_several_objectives_before_any_evaluation() -> None:
    with pytest.raises(hyperdeme.ConfigError, match="cannot search several objectives"):
        OptunaSearch(SPACE, sampler="cmaes", max_evals=3, objectives=NAMES)
    with pytest.raises(hyperdeme.ConfigError, match="cannot search several objectives"):
        OptunaSearch(SPACE, sampler=optuna.samplers.CmaEsSampler(), objectives=NAMES)


@pytest.mark.parametrize("objectives", ["loss", ("loss", "loss"), ("loss", "")])
def test_objectives_must_be_distinct_names(objectives: Any) -> None:
    with pytest.raises(hyperdeme.ConfigError, match="objectives must") as caught:
        OptunaSearch(SPACE, max_evals=3, objectives=objectives)
    assert caught.value.name == "objectives"
