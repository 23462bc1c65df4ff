"""CMAESSearch is Optuna's CmaEsSampler decision for decision (issue 20).

Optuna's sampler is run on a space with a linear, a log and an integer range;
its candidates (Optuna's own ``x``) are then put into a CMAESSearch's
generations in place of the ones it drew, and told through ``observe``: the
transform to the unit box, the starting mean, step size and population, and
every update must leave both CMA states equal. Only the random streams differ
(and Optuna spends its first trial on an independent random draw).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import optuna
from optuna._transform import _SearchSpaceTransform

from hyperdeme import Params, Status, Trial
from hyperdeme.strategies import CMAESConfig, CMAESSearch
from hyperdeme.strategies._box import Box

SPACE = Params([["--x", (-5.0, 10.0)], ["--lr", (1e-5, 1.0), {"log": True}], ["--n", (1, 9)]])
GENERATIONS = 3


def objective(p: dict[str, Any]) -> float:
    return (p["--x"] - 1.0) ** 2 + (np.log10(p["--lr"]) + 2) ** 2 + (p["--n"] - 4) ** 2


def optuna_run(seed: int) -> tuple[optuna.Study, list[list[Any]]]:
    """Optuna's study after ``GENERATIONS`` told generations, and those generations' trials."""
    sampler = optuna.samplers.CmaEsSampler(seed=seed)
    study = optuna.create_study(sampler=sampler)
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    def run(t: optuna.Trial) -> float:
        return objective(
            {
                "--x": t.suggest_float("x", -5.0, 10.0),
                "--lr": t.suggest_float("lr", 1e-5, 1.0, log=True),
                "--n": t.suggest_int("n", 1, 9),
            }
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(run, n_trials=1 + 7 * GENERATIONS + 1)  # popsize 4 + 3 ln 3 = 7
    generations: dict[int, list[Any]] = {}
    for t in study.trials:
        g = t.system_attrs.get("cma:generation")
        if g is not None:
            generations.setdefault(g, []).append(t)
    return study, [generations[g] for g in range(GENERATIONS)]


def test_the_search_is_optunas_cma_es_given_the_same_candidates() -> None:
    study, generations = optuna_run(seed=21)
    sampler = study.sampler
    assert isinstance(sampler, optuna.samplers.CmaEsSampler)
    first = generations[0][0]
    order = ("lr", "n", "x")  # Optuna's search space is sorted by name
    transform = _SearchSpaceTransform(
        {k: first.distributions[k] for k in order}, transform_step=True, transform_0_1=True
    )
    column = {"--x": order.index("x"), "--lr": order.index("lr"), "--n": order.index("n")}
    box = Box(SPACE)
    search = CMAESSearch(SPACE, CMAESConfig(max_evals=100), seed=5)
    trial_id = 0
    for trials in generations:
        assert search.propose(trial_id) is not None
        assert search.generation_size == len(trials)
        generation = search._generation
        assert generation is not None
        vectors = []
        for t in trials:
            x = transform.transform(t.params)
            ours = box.encode({"--x": t.params["x"], "--lr": t.params["lr"], "--n": t.params["n"]})
            # the same unit box: Box's coordinates are Optuna's, column for column
            assert np.allclose([x[column[f]] for f in ("--x", "--lr", "--n")], ours)
            vectors.append(ours)
        generation.vectors[:] = vectors  # Optuna's candidates in place of ours
        for index in range(len(trials)):
            search._where[trial_id + index] = index
        for index, t in enumerate(trials):
            done = Trial(id=trial_id + index, params={}, status=Status.OK, fom=t.value)
            search.observe(done)
        trial_id += len(trials)
    theirs = sampler._restore_optimizer(study.trials)
    ours_cma = search._cma
    assert theirs is not None
    assert ours_cma is not None
    assert ours_cma.generation == theirs.generation == GENERATIONS
    perm = [column[f] for f in ("--x", "--lr", "--n")]
    assert np.allclose(ours_cma._mean, theirs._mean[perm])
    assert np.isclose(ours_cma._sigma, theirs._sigma)
    assert np.allclose(ours_cma._C, theirs._C[np.ix_(perm, perm)])
