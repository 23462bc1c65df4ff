"""The contract every strategy keeps, one suite parametrized over all of them."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from hyperdeme import condition
from hyperdeme._errors import ConfigError
from hyperdeme._parameters import Range
from hyperdeme._space import Params
from hyperdeme.strategies import GeneticSearch, GridSearch, RandomSearch, Strategy

from ._drive import drive, trial_for


def _space(with_defaults: bool) -> Params:
    def entry(flag: str, default: Any, domain: Any, *options: dict[str, Any]) -> list[Any]:
        return [flag, default, domain, *options] if with_defaults else [flag, domain, *options]

    return Params(
        [
            entry("--x", 0.5, (0.0, 1.0)),
            entry("--n", 3, (1, 10)),
            entry("--lr", 1e-3, (1e-5, 1e-1), {"log": True}),
            entry("--layers", 2, (1, 64), {"log": True}),
            entry("--opt", "sgd", ["sgd", "adam", "lbfgs"]),
            entry("--momentum", 0.9, (0.0, 0.99)),
            entry("--batch", 32, [16, 32, 64]),
        ],
        conditions=[
            condition.equals("--momentum", "--opt", "sgd"),
            condition.equals("--opt", "--batch", 32, dependent_param_value="lbfgs"),
        ],
    )


SPACES = {"defaults": _space(True), "no_defaults": _space(False)}


@dataclass(frozen=True)
class Kind:
    make: Callable[[Params, int | None], Strategy]
    budget: int | None  # None: the grid, whose size depends on the space
    seeded: bool


KINDS = {
    "random": Kind(lambda s, seed: RandomSearch(s, num_iters=40, seed=seed), 40, True),
    "grid": Kind(lambda s, seed: GridSearch(s, grid_size=3), None, False),
    "grid_chunked": Kind(lambda s, seed: GridSearch(s, grid_size=2, chunk_size=2), None, False),
    "genetic_steady": Kind(
        lambda s, seed: GeneticSearch(s, generations=3, num_demes=2, pop_size=6, seed=seed),
        36,
        True,
    ),
    "genetic_generational": Kind(
        lambda s, seed: GeneticSearch(
            s, generations=3, num_demes=2, pop_size=6, seed=seed, mode="generational"
        ),
        2 * (6 + 2 * 5),
        True,
    ),
    "genetic_slots": Kind(
        lambda s, seed: GeneticSearch(
            s, generations=2, num_demes=3, pop_size=4, seed=seed, slots=3, mutation_rate=0.5
        ),
        24,
        True,
    ),
}


def _fom(trial_id: int, params: dict[str, Any]) -> float:
    """Deterministic, with a failure every 7th trial."""
    if trial_id % 7 == 0:
        return math.inf
    return float(params["--x"] + params["--n"] / 10 + (params["--opt"] == "adam"))


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> Kind:
    return KINDS[request.param]


@pytest.fixture(params=list(SPACES))
def space(request: pytest.FixtureRequest) -> Params:
    return SPACES[request.param]


@pytest.mark.parametrize(("parallel", "lifo"), [(1, False), (4, False), (5, True)])
def test_candidates_are_full_points_inside_the_space(
    kind: Kind, space: Params, parallel: int, lifo: bool
) -> None:
    asked = drive(kind.make(space, 7), _fom, parallel=parallel, lifo=lifo)
    assert asked
    for candidate in asked:
        assert list(candidate.params) == list(space.flags)
        for flag, value in candidate.params.items():
            param = space[flag]
            assert param.contains(value), (flag, value)
            if isinstance(param, Range):
                assert type(value) is (int if param.integer else float), (flag, value)
        assert space.allowed(candidate.params), candidate.params


def test_info_is_json_with_the_strategy_name(kind: Kind, space: Params) -> None:
    for candidate in drive(kind.make(space, 7), _fom, parallel=3):
        assert json.loads(json.dumps(candidate.info)) == candidate.info
        assert candidate.info["strategy"] in ("random", "grid", "genetic")


def test_budget_is_never_exceeded_and_finished_after_it_is_told(kind: Kind, space: Params) -> None:
    strategy = kind.make(space, 3)
    assert not strategy.finished
    asked = drive(strategy, _fom, parallel=4)
    if kind.budget is not None:
        assert len(asked) == kind.budget
    assert strategy.finished
    assert strategy.outstanding == 0
    assert strategy.ask() is None
    assert strategy.finished


def test_not_finished_while_a_candidate_is_outstanding(kind: Kind, space: Params) -> None:
    strategy = kind.make(space, 3)
    asked = drive(strategy, _fom)
    assert asked
    # a fresh run, stopped with the last candidate out
    again = kind.make(space, 3)
    for trial_id in range(1, len(asked)):
        candidate = again.ask()
        assert candidate is not None
        again.tell(trial_for(space, candidate, trial_id, _fom(trial_id, candidate.params)))
    last = again.ask()
    assert last is not None
    assert not again.finished
    again.tell(trial_for(space, last, len(asked), 1.0))
    assert again.finished


@pytest.mark.parametrize(("parallel", "lifo"), [(1, False), (4, True)])
def test_same_seed_same_candidates(kind: Kind, space: Params, parallel: int, lifo: bool) -> None:
    first = drive(kind.make(space, 12345), _fom, parallel=parallel, lifo=lifo)
    second = drive(kind.make(space, 12345), _fom, parallel=parallel, lifo=lifo)
    assert first == second


SEEDED = [name for name, kind in KINDS.items() if kind.seeded]


@pytest.mark.parametrize("name", SEEDED)
def test_different_seeds_differ(name: str, space: Params) -> None:
    kind = KINDS[name]
    first = drive(kind.make(space, 1), _fom)
    second = drive(kind.make(space, 2), _fom)
    assert [c.params for c in first] != [c.params for c in second]


@pytest.mark.parametrize("name", SEEDED)
def test_seed_none_or_zero_draws_a_fresh_seed(name: str, space: Params) -> None:
    kind = KINDS[name]
    seeds = {kind.make(space, seed).seed for seed in (None, 0, None, 0)}
    assert len(seeds) == 4
    assert kind.make(space, 99).seed == 99


@pytest.mark.parametrize("name", SEEDED)
@pytest.mark.parametrize("seed", [-1, 1.5, True, "7"])
def test_a_bad_seed_is_refused_when_the_strategy_is_built(name: str, seed: Any) -> None:
    # not at the first ask, deep inside a run (numpy refuses it only then)
    with pytest.raises(ConfigError) as caught:
        KINDS[name].make(SPACES["defaults"], seed)
    assert str(caught.value) == (
        f"seed must be an int >= 0 (0 or None draws a fresh seed), got {seed!r}."
    )


def test_no_global_random_state_is_used(kind: Kind, space: Params) -> None:
    import pickle
    import random

    import numpy as np

    random.seed(1)
    np.random.seed(1)
    before = (random.getstate(), pickle.dumps(np.random.get_state()))
    drive(kind.make(space, 5), _fom, parallel=2)
    after = (random.getstate(), pickle.dumps(np.random.get_state()))
    assert before == after
