"""CMAESSearch: the unit box, generations filling the slots, results told as they come,
failed and stopped trials, restarts, the no-repeat rule."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import hyperdeme
from hyperdeme import Candidate, Params, Status
from hyperdeme.strategies import CMAESConfig, CMAESSearch, RandomConfig
from hyperdeme.strategies._box import Box
from hyperdeme.strategies._cmaes import _values

from ._drive import Driver, drive

BOX = Params([[f"--x{i}", (-5.0, 5.0)] for i in range(4)])


def sphere(trial_id: int, params: dict[str, Any]) -> float:
    return sum((params[f"--x{i}"] - 1.0) ** 2 for i in range(4))


def search(space: Params = BOX, seed: int = 3, **settings: Any) -> CMAESSearch:
    return CMAESSearch(space, CMAESConfig(**settings), seed=seed)


def best(candidates: list[Candidate], fom: Any) -> float:
    return min(fom(i + 1, c.params) for i, c in enumerate(candidates))


def test_it_beats_random_search_on_a_smooth_problem_for_every_seed() -> None:
    for seed in (1, 2, 3):
        cma = best(drive(search(seed=seed, max_evals=200), sphere), sphere)
        random = best(drive(RandomConfig(num_iters=200).strategy(BOX, seed=seed), sphere), sphere)
        assert cma < random / 10, (seed, cma, random)


def test_the_same_seed_gives_the_same_candidates_and_another_seed_others() -> None:
    first = [c.params for c in drive(search(seed=5, max_evals=30), sphere)]
    again = [c.params for c in drive(search(seed=5, max_evals=30), sphere)]
    other = [c.params for c in drive(search(seed=6, max_evals=30), sphere)]
    assert first == again
    assert first != other


def test_a_generation_fills_the_slots_then_waits_for_all_its_results() -> None:
    driver = Driver(search(popsize=5, max_evals=20))
    for _ in range(5):
        driver.take()
    assert driver.ask() is None  # the barrier: 5 outstanding, none told
    for trial_id in (3, 1, 5, 2):
        driver.tell(trial_id, 1.0 + trial_id)
        assert driver.ask() is None
    driver.tell(4, 0.5)
    assert driver.take().info["generation"] == 1


def test_results_told_in_any_order_give_the_same_next_generation() -> None:
    def next_generation(order: list[int]) -> list[dict[str, Any]]:
        driver = Driver(search(popsize=6, max_evals=12))
        for _ in range(6):
            driver.take()
        for trial_id in order:
            driver.tell(trial_id, sphere(trial_id, driver.candidate(trial_id).params))
        return [driver.take().params for _ in range(6)]

    assert next_generation([1, 2, 3, 4, 5, 6]) == next_generation([6, 2, 4, 1, 5, 3])


def test_parallel_slots_reach_the_same_quality_as_one() -> None:
    one = best(drive(search(max_evals=120), sphere), sphere)
    four = best(drive(search(max_evals=120), sphere, parallel=4, lifo=True), sphere)
    assert four == one  # the state depends only on the results, not on their timing


def test_a_failed_trial_ranks_last_and_a_stopped_one_after_every_completed_one() -> None:
    told = _values(
        [
            (Status.OK, 3.0),
            (Status.FAILED, math.inf),
            (Status.STOPPED, 0.5),
            (Status.OK, 1.0),
            (Status.STOPPED, 0.2),
            (Status.TIMEOUT, math.inf),
        ]
    )
    order = sorted(range(6), key=lambda i: told[i])
    assert order[:4] == [3, 0, 4, 2]  # completed by FoM, then stopped by their last FoM
    assert told[1] == told[5] == math.inf


def test_a_generation_of_failures_does_not_stop_the_search() -> None:
    candidates = drive(search(max_evals=40, popsize=4), lambda i, p: math.inf)
    assert len(candidates) == 40


def test_ipop_restarts_double_the_population_once_cma_converges() -> None:
    strategy = search(space=Params([["--x", (0.0, 1.0)], ["--y", (0.0, 1.0)]]), max_evals=3000)
    drive(strategy, lambda i, p: (p["--x"] - 0.3) ** 2 + (p["--y"] - 0.7) ** 2)
    assert strategy.runs >= 2
    assert strategy.generation_size == 6 * 2 ** (strategy.runs - 1)


def test_bipop_also_runs_small_populations() -> None:
    space = Params([["--x", (0.0, 1.0)], ["--y", (0.0, 1.0)]])
    strategy = search(space=space, max_evals=3000, restarts="bipop")
    sizes = []
    driver = Driver(strategy)
    while not strategy.finished:
        while driver.ask() is not None:
            pass
        sizes.append(strategy.generation_size)
        for trial_id in list(driver.running):
            params = driver.candidate(trial_id).params
            driver.tell(trial_id, (params["--x"] - 0.3) ** 2 + (params["--y"] - 0.7) ** 2)
    assert strategy.runs >= 3
    assert min(sizes) < 6 < max(sizes)


def test_without_restarts_one_run_goes_on() -> None:
    strategy = search(space=Params([["--x", (0.0, 1.0)], ["--y", (0.0, 1.0)]]), restarts=None)
    drive(strategy, lambda i, p: p["--x"] ** 2 + p["--y"] ** 2)
    assert strategy.runs == 1


def test_log_ranges_are_searched_in_log_space() -> None:
    space = Params([["--lr", (1e-6, 1.0), {"log": True}], ["--x", (0.0, 1.0)]])
    box = Box(space)
    point = box.decode(np.array([0.5, 0.5]), np.random.default_rng(0))
    assert point["--lr"] == pytest.approx(1e-3)
    assert box.encode({"--lr": 1e-3, "--x": 0.25}) == pytest.approx([0.5, 0.25])


def test_integers_are_rounded_and_every_integer_owns_an_equal_share() -> None:
    box = Box(Params([["--n", (1, 4)], ["--x", (0.0, 1.0)]]))
    rng = np.random.default_rng(0)
    cells = [box.decode(np.array([u, 0.0]), rng)["--n"] for u in (0.0, 0.24, 0.26, 0.49, 0.51, 1.0)]
    assert cells == [1, 1, 2, 2, 3, 4]
    assert all(isinstance(n, int) for n in cells)


def test_value_lists_are_one_hot_the_largest_coordinate_wins() -> None:
    space = Params([["--act", ["relu", "tanh", "gelu"]], ["--only", ["one"]], ["--x", (0.0, 1.0)]])
    box = Box(space)
    assert box.dim == 4  # three for --act, none for a single value, one for --x
    point = box.decode(np.array([0.1, 0.9, 0.3, 0.5]), np.random.default_rng(0))
    assert point == {"--act": "tanh", "--only": "one", "--x": 0.5}
    assert box.decode(box.encode(point), np.random.default_rng(0)) == point


def test_a_mixed_space_is_searched_and_every_candidate_belongs_to_it() -> None:
    space = Params(
        [
            ["--opt", ["sgd", "adam"]],
            ["--lr", (1e-5, 1.0), {"log": True}],
            ["--layers", (1, 6)],
            ["--momentum", (0.0, 0.99)],
        ],
        conditions=[hyperdeme.condition.equals("--momentum", "--opt", "sgd")],
    )

    def fom(trial_id: int, p: dict[str, Any]) -> float:
        return abs(math.log10(p["--lr"]) + 2) + abs(p["--layers"] - 3) + (p["--opt"] == "adam")

    candidates = drive(CMAESSearch(space, CMAESConfig(max_evals=150), seed=2), fom)
    for candidate in candidates:
        assert space.allowed(candidate.params)
        assert isinstance(candidate.params["--layers"], int)
        assert 1e-5 <= candidate.params["--lr"] <= 1.0
    assert best(candidates, fom) < 0.5


def test_no_point_is_proposed_twice_and_a_finite_space_ends_when_all_were_seen() -> None:
    space = Params([["--a", [1, 2, 3]], ["--b", (0, 2)]])  # 9 points
    candidates = drive(search(space=space, max_evals=50), lambda i, p: p["--a"] + p["--b"])
    keys = [(c.params["--a"], c.params["--b"]) for c in candidates]
    assert len(keys) == len(set(keys)) == 9


def test_settings_are_checked_before_any_search() -> None:
    with pytest.raises(hyperdeme.ConfigError, match="restarts must be one of ipop, bipop"):
        CMAESConfig(restarts="lbfgs")  # type: ignore[arg-type]
    with pytest.raises(hyperdeme.ConfigError, match="sigma0 must be a number > 0"):
        CMAESConfig(sigma0=0.0)
    with pytest.raises(hyperdeme.ConfigError, match="popsize must be an integer >= 2"):
        CMAESConfig(popsize=1)
    assert CMAESConfig(restarts="none").restarts is None  # TOML has no null


def test_it_describes_its_settings_and_budget_for_resume() -> None:
    strategy = search(max_evals=30)
    assert strategy.describe() == {
        "type": "CMAESSearch",
        "settings": {"max_evals": 30, "sigma0": None, "popsize": None, "restarts": "ipop"},
    }
    assert strategy.budget == 30
    assert strategy.budget_settings == ("max_evals",)
