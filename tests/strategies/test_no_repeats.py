"""No point is evaluated twice (issue 17, item 1): every built-in strategy skips the points
it asked for or was told, and a finite space ends the search once every point was asked."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Any

import numpy as np
import pytest

from hyperdeme import Candidate, ConfigError, Params, Status, Trial
from hyperdeme.condition import equals
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
    SeenPoints,
)

from ._drive import Driver, drive

#: a log range, a value list, an integer range and a flag active only with --opt sgd
MIXED = Params(
    [
        ["--lr", 1e-3, (1e-5, 1e-1), {"log": True}],
        ["--opt", "sgd", ["sgd", "adam", "rmsprop"]],
        ["--layers", 2, (1, 4)],
        ["--momentum", 0.9, [0.0, 0.5, 0.9, 0.99]],
    ],
    conditions=[equals("--momentum", "--opt", "sgd")],
)
#: 3 x 4 = 12 points
TWELVE = Params([["--a", 1, [1, 2, 3]], ["--b", 0, (0, 3)]])


def mixed_fom(trial_id: int, params: dict[str, Any]) -> float:
    momentum = params["--momentum"] if params["--opt"] == "sgd" else 0.5
    return (
        (math.log10(params["--lr"]) + 2.5) ** 2
        + 0.3 * (params["--layers"] - 3) ** 2
        + (momentum - 0.9) ** 2
        + (0.0 if params["--opt"] == "adam" else 0.2)
    )


def twelve_fom(trial_id: int, params: dict[str, Any]) -> float:
    return float(params["--a"] + params["--b"])


def key(space: Params, params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The test's own notion of "the same point": equal active values (by repr)."""
    return tuple(sorted((flag, repr(value)) for flag, value in space.active(params).items()))


def repeats(space: Params, candidates: list[Candidate]) -> int:
    counts = Counter(key(space, c.params) for c in candidates)
    return sum(n - 1 for n in counts.values())


SEEDS = [1, 2, 3, 4, 5]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("parallel", [1, 4])
def test_genetic_with_max_evals_200_never_repeats_on_a_mixed_space(
    seed: int, parallel: int
) -> None:
    strategy = GeneticSearch(MIXED, GeneticConfig(max_evals=200), seed=seed)
    asked = drive(strategy, mixed_fom, parallel=parallel)
    assert len(asked) == 200
    assert repeats(MIXED, asked) == 0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mode", ["steady", "generational"])
def test_genetic_2_demes_of_20_for_5_generations_never_repeats(seed: int, mode: str) -> None:
    config = GeneticConfig(num_demes=2, pop_size=20, generations=5, mode=mode)
    asked = drive(GeneticSearch(MIXED, config, seed=seed), mixed_fom, parallel=3)
    assert len(asked) == config.budget
    assert repeats(MIXED, asked) == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_random_search_never_repeats_on_a_small_finite_space(seed: int) -> None:
    space = Params([["--a", [1, 2, 3, 4, 5]], ["--b", (0, 5)], ["--c", [True, False]]])  # 60
    asked = drive(RandomSearch(space, RandomConfig(num_iters=50), seed=seed), twelve_fom)
    assert len(asked) == 50
    assert repeats(space, asked) == 0


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: RandomSearch(TWELVE, RandomConfig(num_iters=50), seed=seed),
        lambda seed: GeneticSearch(TWELVE, GeneticConfig(max_evals=50), seed=seed),
        lambda seed: GeneticSearch(
            TWELVE, GeneticConfig(max_evals=50, mode="generational"), seed=seed
        ),
        lambda seed: ConcurrencyLimiter(
            RandomSearch(TWELVE, RandomConfig(num_iters=50), seed=seed), max_concurrent=2
        ),
    ],
    ids=["random", "genetic", "genetic-generational", "limited-random"],
)
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("parallel", [1, 5])
def test_a_12_point_space_ends_after_its_12_points(make: Any, seed: int, parallel: int) -> None:
    strategy = make(seed)
    asked = drive(strategy, twelve_fom, parallel=parallel)
    assert len(asked) == 12
    assert {key(TWELVE, c.params) for c in asked} == {
        key(TWELVE, {"--a": a, "--b": b}) for a in (1, 2, 3) for b in range(4)
    }
    assert strategy.finished
    assert strategy.seen.size == 12
    assert strategy.seen.complete


def test_a_limiter_shares_the_points_seen_of_the_strategy_it_wraps() -> None:
    inner = RandomSearch(TWELVE, RandomConfig(num_iters=50), seed=1)
    limited = ConcurrencyLimiter(inner, max_concurrent=2)
    assert limited.seen is inner.seen
    drive(limited, twelve_fom, parallel=2)
    assert len(limited.seen) == 12


def test_the_space_counts_as_done_while_its_last_points_are_in_flight() -> None:
    driver = Driver(RandomSearch(TWELVE, RandomConfig(num_iters=50), seed=1))
    for _ in range(12):
        driver.take()
    assert driver.strategy.exhausted()
    assert driver.ask() is None
    assert not driver.strategy.finished  # 12 outstanding
    for trial_id in range(1, 13):
        driver.tell(trial_id, 1.0)
    assert driver.strategy.finished


@pytest.mark.parametrize("grid_size", [2, 3, 5])
def test_grid_never_repeats_an_active_point(grid_size: int) -> None:
    asked = drive(GridSearch(MIXED, GridConfig(grid_size=grid_size)), mixed_fom)
    assert repeats(MIXED, asked) == 0
    # the genes --momentum takes while --opt is not sgd are one point
    expected = {
        key(MIXED, dict(zip(MIXED.flags, values, strict=True)))
        for values in itertools.product(*(p.grid(grid_size) for p in MIXED.parameters))
    }
    baseline = key(MIXED, MIXED.defaults())
    assert {key(MIXED, c.params) for c in asked} == expected | {baseline}


def test_a_resumed_genetic_search_never_repeats_the_points_replayed() -> None:
    """Resuming asks and tells the journal's trials again: the rebuilt set of points seen
    keeps the 30 trials after them from repeating any of them."""
    config = GeneticConfig(max_evals=60)
    first = Driver(GeneticSearch(MIXED, config, seed=3))
    for _ in range(30):
        first.take()
        first.tell(first.last_id, mixed_fom(0, first.asked[-1].params))
    resumed = Driver(GeneticSearch(MIXED, config, seed=3))
    for trial_id, candidate in enumerate(first.asked, start=1):  # the replay
        assert resumed.take().params == candidate.params
        resumed.tell(trial_id, mixed_fom(0, candidate.params))
    assert len(resumed.strategy.seen) == 30
    rest = resumed.run(mixed_fom, parallel=2)
    assert len(rest) == 30
    assert repeats(MIXED, first.asked + rest) == 0


def test_a_told_trial_counts_as_seen_even_when_it_is_not_what_was_asked() -> None:
    """A trial told without its candidate (an engine that knows only the parameters it
    ran) joins the points seen by its own parameters, and is never proposed again."""
    strategy = RandomSearch(TWELVE, RandomConfig(num_iters=50), seed=1)
    strategy.ask(1)
    ran = {"--a": 3, "--b": 3}
    strategy.tell(Trial(id=1, params=ran, fom=1.0, status=Status.OK, candidate=None))
    assert ran in strategy.seen
    asked = drive(strategy, twelve_fom)
    assert key(TWELVE, ran) not in {key(TWELVE, c.params) for c in asked}


def test_pbt_members_start_distinct_and_a_too_small_space_is_refused() -> None:
    tiny = Params([["--a", [1, 2]], ["--b", (0, 1)]])  # 4 points
    strategy = PBTSearch(tiny, PBTConfig(population=4, steps=3), seed=1)
    first = [strategy.ask(i) for i in range(1, 5)]
    assert len({key(tiny, c.params) for c in first if c is not None}) == 4
    too_many = PBTSearch(tiny, PBTConfig(population=5, steps=3), seed=1)
    with pytest.raises(ConfigError, match="population=5") as caught:
        too_many.ask(1)
    assert caught.value.name == "population"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pbt_continues_members_but_an_explore_step_gives_new_hyperparameters(seed: int) -> None:
    """A member's next slice keeps its point (it continues training: allowed); an exploit
    takes hyperparameters no member has at that moment."""
    space = Params([["--a", [1, 2, 3, 4]], ["--b", (0, 2)]])  # 12 points
    strategy = PBTSearch(space, PBTConfig(population=4, steps=8, quantile=0.5), seed=seed)
    driver = Driver(strategy)
    members: dict[int, dict[str, Any]] = {}
    exploits = 0
    while not strategy.finished:
        candidate = driver.take() if not strategy.exhausted() else None
        if candidate is not None:
            member = candidate.info["member"]
            if "exploited_from" in candidate.info:
                exploits += 1
                others = [key(space, p) for m, p in members.items() if m != member]
                assert key(space, candidate.params) not in others
            elif member in members:
                assert candidate.params == members[member]  # it continues training
            members[member] = dict(candidate.params)
        trial_id = driver.running[0]
        driver.tell(trial_id, twelve_fom(0, driver.candidate(trial_id).params))
    assert exploits > 0


def test_seen_points_keys_active_canonical_values() -> None:
    seen = SeenPoints(MIXED)
    assert seen.add({"--lr": 0.01, "--opt": "adam", "--layers": 2, "--momentum": 0.0})
    # --momentum is inactive without sgd: the same point
    assert {"--lr": 0.01, "--opt": "adam", "--layers": 2, "--momentum": 0.9} in seen
    assert {"--lr": 0.01, "--opt": "adam", "--layers": 2.0, "--momentum": 0.9} in seen
    assert {"--lr": np.float64(0.01), "--opt": "adam", "--layers": np.int64(2)} in seen
    assert {"--lr": 0.01, "--opt": "adam", "--layers": 3, "--momentum": 0.9} not in seen
    assert {"--lr": 0.010000001, "--opt": "adam", "--layers": 2, "--momentum": 0.0} not in seen
    assert not seen.add({"--lr": 0.01, "--opt": "adam", "--layers": 2})
    assert seen.add({"--lr": 0.01, "--opt": "sgd", "--layers": 2, "--momentum": 0.0})
    assert len(seen) == 2
    flags = SeenPoints(Params([["--f", [1, True]]]))
    flags.add({"--f": 1})
    assert {"--f": True} not in flags  # a bool is not the number 1
    assert seen.size is None  # a real range: infinite


def test_fresh_finds_the_points_left_when_draws_keep_hitting_seen_ones() -> None:
    """A draw that only ever gives a seen point: what is left of the finite space is
    enumerated, one of its points handed out, until none is left."""
    seen = SeenPoints(TWELVE)
    stuck = {"--a": 1, "--b": 0}
    seen.add(stuck)
    rng = np.random.default_rng(1)
    found = []
    while (point := seen.fresh(lambda: dict(stuck), rng)) is not None:
        assert point not in seen
        seen.add(point)
        found.append(point)
    assert len(found) == 11
    assert seen.complete


def test_unhashable_values_are_points_too() -> None:
    space = Params([["--shape", [[1, 2], [2, 1], {"k": 1}]], ["--n", (0, 1)]])
    seen = SeenPoints(space)
    assert seen.add({"--shape": [1, 2], "--n": 0})
    assert {"--shape": [1, 2], "--n": 0} in seen
    assert {"--shape": [2, 1], "--n": 0} not in seen
    assert {"--shape": {"k": 1}, "--n": 0} not in seen
    asked = drive(RandomSearch(space, RandomConfig(num_iters=20), seed=2), lambda i, p: 1.0)
    assert len(asked) == 6


def test_a_child_redrawn_off_a_seen_point_counts_as_a_failed_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The 1/5 rule hears of a local child that landed on a seen point, when it is asked
    (it used to be evaluated, and told no better than its parent)."""
    from hyperdeme.strategies import _adaptation

    proposing = False
    heard_while_proposing: list[bool] = []
    record = _adaptation.Adaptation.record

    def spy(self: Any, success: bool) -> None:
        if proposing:
            heard_while_proposing.append(success)
        record(self, success)

    propose = GeneticSearch.propose

    def in_propose(self: GeneticSearch, trial_id: int) -> Candidate | None:
        nonlocal proposing
        proposing = True
        try:
            return propose(self, trial_id)
        finally:
            proposing = False

    monkeypatch.setattr(_adaptation.Adaptation, "record", spy)
    monkeypatch.setattr(GeneticSearch, "propose", in_propose)
    space = Params([["--a", 2, [1, 2, 3]], ["--b", 5, (0, 9)]])  # 30 points
    drive(GeneticSearch(space, GeneticConfig(max_evals=30), seed=1), twelve_fom)
    assert heard_while_proposing
    assert not any(heard_while_proposing)
