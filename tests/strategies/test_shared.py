"""The contract every strategy keeps, one suite parametrized over all of them."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from hyperdeme import ConfigError, Params, UsageError, condition
from hyperdeme._space import Range
from hyperdeme.strategies import (
    ConcurrencyLimiter,
    GeneticConfig,
    GeneticSearch,
    GridConfig,
    GridSearch,
    PBTConfig,
    PBTSearch,
    RandomConfig,
    RandomSearch,
    Strategy,
)

from ._drive import Driver, drive


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
    config: RandomConfig | GridConfig | GeneticConfig | PBTConfig
    budget: int | None  # None: the grid, whose size depends on the space
    seeded: bool
    max_concurrent: int | None = None  # wrapped in a ConcurrencyLimiter

    def make(self, space: Params, seed: int | None) -> Strategy:
        strategy = self.config.strategy(space, seed=seed)
        if self.max_concurrent is None:
            return strategy
        return ConcurrencyLimiter(strategy, max_concurrent=self.max_concurrent)


KINDS = {
    "random": Kind(RandomConfig(num_iters=40), 40, True),
    "grid": Kind(GridConfig(grid_size=3), None, False),
    "grid_limited": Kind(GridConfig(grid_size=2), None, False, max_concurrent=2),
    "genetic_steady": Kind(GeneticConfig(generations=3, num_demes=2, pop_size=6), 36, True),
    "genetic_generational": Kind(
        GeneticConfig(generations=3, num_demes=2, pop_size=6, mode="generational"),
        2 * (6 + 2 * 5),
        True,
    ),
    "genetic_budget": Kind(GeneticConfig(max_evals=30), 30, True),
    "genetic_limited": Kind(
        GeneticConfig(generations=2, num_demes=3, pop_size=4, mutation_rate=0.5),
        24,
        True,
        max_concurrent=3,
    ),
    "genetic_pbt": Kind(
        GeneticConfig(
            generations=4, num_demes=2, pop_size=3, inherit_checkpoints=True, gens_per_epoch=2
        ),
        24,
        True,
    ),
    "pbt_async": Kind(PBTConfig(population=5, steps=4), 20, True),
    "pbt_sync": Kind(PBTConfig(population=4, steps=3, mode="sync", quantile=0.5), 12, True),
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
        assert candidate.info["strategy"] in ("random", "grid", "genetic", "pbt")


def test_budget_is_never_exceeded_and_finished_after_it_is_told(kind: Kind, space: Params) -> None:
    strategy = kind.make(space, 3)
    assert not strategy.finished
    driver = Driver(strategy)
    asked = driver.run(_fom, parallel=4)
    budget = strategy.budget
    if kind.budget is not None:
        assert budget == kind.budget
        assert len(asked) == kind.budget
    elif space.conditions:  # a grid skips duplicates and forbidden points as it finds them
        assert budget is None
    else:  # a grid without conditions knows its exact size
        assert len(asked) == budget
    assert strategy.finished
    assert strategy.outstanding == 0
    # the refused id is offered again, and refused again
    assert strategy.ask(driver.next_id) is None
    assert strategy.ask(driver.next_id) is None
    assert strategy.finished


def test_not_finished_while_a_candidate_is_outstanding(kind: Kind, space: Params) -> None:
    asked = drive(kind.make(space, 3), _fom)
    assert asked
    # a fresh run, stopped with the last candidate out
    driver = Driver(kind.make(space, 3))
    for _ in range(len(asked) - 1):
        candidate = driver.take()
        driver.tell(driver.last_id, _fom(driver.last_id, candidate.params))
    driver.take()
    assert driver.last_id == len(asked)
    assert not driver.strategy.finished
    assert driver.strategy.outstanding == 1
    driver.tell(driver.last_id, 1.0)
    assert driver.strategy.finished


@pytest.mark.parametrize(("parallel", "lifo"), [(1, False), (4, True)])
def test_same_seed_same_candidates(kind: Kind, space: Params, parallel: int, lifo: bool) -> None:
    first = drive(kind.make(space, 12345), _fom, parallel=parallel, lifo=lifo)
    second = drive(kind.make(space, 12345), _fom, parallel=parallel, lifo=lifo)
    assert first == second


def test_checkpoint_plans_start_from_committed_slots_never_released(
    kind: Kind, space: Params
) -> None:
    """A start is a slot an earlier successful trial wrote; a released slot is never used."""
    strategy = kind.make(space, 9)
    driver = Driver(strategy)
    committed: set[str] = set()
    released: set[str] = set()
    while not strategy.finished:
        while len(driver.running) < 3 and (candidate := driver.ask()) is not None:
            if candidate.checkpoint is not None:
                assert candidate.checkpoint.slot not in committed
                start = candidate.checkpoint.start_from
                assert start is None or (start in committed and start not in released), start
        trial_id = driver.running[0]
        candidate = driver.candidate(trial_id)
        fom = _fom(trial_id, candidate.params)
        driver.tell(trial_id, fom)
        if candidate.checkpoint is not None and math.isfinite(fom):
            committed.add(candidate.checkpoint.slot)
        now = strategy.released_checkpoints()
        assert set(now) <= committed - released
        released |= set(now)
    planned = kind.config.__class__ is PBTConfig or getattr(kind.config, "inherit_checkpoints", 0)
    assert bool(committed) == bool(planned)


# ------------------------------------------------------------------ protocol misuse


def _not_outstanding(strategy: Strategy, trial_id: int) -> str:
    return (
        f"trial {trial_id} is not outstanding for this {type(strategy).__name__}: it was "
        "never asked for, or was told already; tell each asked trial exactly once."
    )


def test_telling_a_trial_never_asked_for_is_a_usage_error(kind: Kind, space: Params) -> None:
    driver = Driver(kind.make(space, 5))
    candidate = driver.take()
    stranger = driver.trial(1, 1.0)
    stranger.id = 5
    with pytest.raises(UsageError) as caught:
        driver.strategy.tell(stranger)
    assert str(caught.value) == _not_outstanding(driver.strategy, 5)
    # nothing changed: trial 1 is still out, and the run goes on as if it never happened
    assert driver.strategy.outstanding == 1
    assert [candidate, *driver.run(_fom, parallel=2)] == drive(
        kind.make(space, 5), _fom, parallel=2
    )


def test_telling_a_trial_twice_is_a_usage_error(kind: Kind, space: Params) -> None:
    driver = Driver(kind.make(space, 5))
    driver.take()
    driver.take()
    told = driver.trial(1, 1.0)
    driver.tell(1, 1.0)
    with pytest.raises(UsageError) as caught:
        driver.strategy.tell(told)
    assert str(caught.value) == _not_outstanding(driver.strategy, 1)
    assert driver.strategy.outstanding == 1
    driver.run(_fom)
    assert driver.strategy.finished
    with pytest.raises(UsageError, match="trial 2 is not outstanding"):
        driver.strategy.tell(driver.trial(2, 1.0))


def test_asking_with_an_outstanding_trial_id_is_a_usage_error(kind: Kind, space: Params) -> None:
    driver = Driver(kind.make(space, 5))
    driver.take()
    with pytest.raises(UsageError) as caught:
        driver.strategy.ask(1)
    assert str(caught.value) == "trial 1 was already asked for; use a new trial id."
    assert driver.strategy.outstanding == 1
    # the refused ask took nothing: the run goes on as if it never happened
    assert [driver.candidate(1), *driver.run(_fom, parallel=2)] == drive(
        kind.make(space, 5), _fom, parallel=2
    )


# ------------------------------------------------------------------ seeds

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
        f"seed must be an integer >= 0 (0 or None draws a fresh seed), got {seed!r}."
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


# ------------------------------------------------------------------ configs


CONFIG_ERRORS: list[tuple[Callable[[], object], str]] = [
    (lambda: RandomConfig(num_iters=0), "num_iters must be an integer >= 1, got 0."),
    (lambda: GridConfig(grid_size=0), "grid_size must be an integer >= 1, got 0."),
    (lambda: GeneticConfig(pop_size=1), "pop_size must be an integer >= 2, got 1."),
    (lambda: GeneticConfig(gens_per_epoch=0), "gens_per_epoch must be an integer >= 1, got 0."),
    (lambda: PBTConfig(population=1), "population must be an integer >= 2, got 1."),
]


@pytest.mark.parametrize(("build", "message"), CONFIG_ERRORS)
def test_a_config_is_checked_without_a_search_space(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        build()
    assert str(caught.value) == message


def test_a_config_is_frozen(kind: Kind) -> None:
    import dataclasses

    field = dataclasses.fields(kind.config)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(kind.config, field.name, getattr(kind.config, field.name))


def _built_directly(config: Any, space: Params, seed: int) -> Strategy:
    if isinstance(config, RandomConfig):
        return RandomSearch(space, config, seed=seed)
    if isinstance(config, GridConfig):
        return GridSearch(space, config)  # deterministic: no seed
    if isinstance(config, PBTConfig):
        return PBTSearch(space, config, seed=seed)
    return GeneticSearch(space, config, seed=seed)


def test_config_strategy_builds_the_strategy_with_that_config(kind: Kind, space: Params) -> None:
    strategy = kind.config.strategy(space, seed=17)
    direct = _built_directly(kind.config, space, 17)
    assert type(strategy) is type(direct)
    assert strategy.config is kind.config
    assert strategy.space is space
    assert strategy.seed == direct.seed
    if kind.seeded:
        assert strategy.seed == 17
    assert drive(strategy, _fom) == drive(direct, _fom)
