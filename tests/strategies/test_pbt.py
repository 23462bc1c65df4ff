"""Population-based training as a pure ask/tell strategy: exploit, explore, modes, checkpoints."""

from __future__ import annotations

import importlib.util
import math
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hyperdeme import Candidate, ConfigError, ConfigTypeError, Params, Status, Trial, condition
from hyperdeme._space import Choice, Range
from hyperdeme.strategies import PBTConfig, PBTSearch
from hyperdeme.strategies._explore import explore, explore_value

from ._drive import Driver, drive

SPACE = Params(
    [
        ["--lr", 0.1, (1e-3, 1.0), {"log": True}],
        ["--momentum", 0.9, (0.0, 0.99)],
        ["--batch", 32, [16, 32, 64, 128]],
        ["--layers", 2, (1, 8)],
    ]
)


def pbt(**settings: Any) -> PBTSearch:
    seed = settings.pop("seed", 7)
    return PBTSearch(SPACE, PBTConfig(**settings), seed=seed)


def slot(trial_id: int) -> str:
    return f"{trial_id:05d}"


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"population": 1}, ConfigError, "population must be an integer >= 2, got 1."),
        ({"steps": 0}, ConfigError, "steps must be an integer >= 1, got 0."),
        ({"steps": 2.0}, ConfigTypeError, "steps must be an integer >= 1, got 2.0."),
        (
            {"quantile": 0.6},
            ConfigError,
            "quantile must be in [0, 0.5] (the fraction of members in the top and in the "
            "bottom), got 0.6.",
        ),
        ({"quantile": -0.1}, ConfigError, "quantile must be a number >= 0, got -0.1."),
        ({"quantile": "0.2"}, ConfigTypeError, "quantile must be a number >= 0, got '0.2'."),
        (
            {"perturb": ()},
            ConfigError,
            "perturb must hold at least one factor > 0, got ().",
        ),
        (
            {"perturb": (0.8, 0.0)},
            ConfigError,
            "perturb (each factor) must be a number > 0, got 0.0.",
        ),
        (
            {"perturb": 1.2},
            ConfigTypeError,
            "perturb must be a sequence of factors > 0 such as (0.8, 1.2), got 1.2.",
        ),
        (
            {"resample_probability": 1.5},
            ConfigError,
            "resample_probability must be in [0, 1], got 1.5.",
        ),
        ({"ready_after": 0}, ConfigError, "ready_after must be an integer >= 1, got 0."),
        ({"mode": "lockstep"}, ConfigError, "mode must be one of async, sync; got 'lockstep'."),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error) as caught:
        PBTConfig(**kwargs)
    assert str(caught.value) == message


def test_defaults_are_ray_tunes() -> None:
    config = PBTConfig()
    assert (config.population, config.steps, config.quantile) == (16, 20, 0.25)
    assert (config.perturb, config.resample_probability) == ((0.8, 1.2), 0.25)
    assert (config.ready_after, config.mode, config.budget) == (1, "async", 320)


# ------------------------------------------------------------------ the population


@pytest.mark.parametrize("mode", ["async", "sync"])
@pytest.mark.parametrize("parallel", [1, 3, 8])
def test_each_member_trains_exactly_steps_slices(mode: str, parallel: int) -> None:
    asked = drive(pbt(population=5, steps=4, mode=mode), lambda i, p: p["--lr"], parallel=parallel)
    assert len(asked) == 20
    by_member: dict[int, list[int]] = {}
    for candidate in asked:
        by_member.setdefault(candidate.info["member"], []).append(candidate.info["step"])
    assert by_member == {m: [0, 1, 2, 3] for m in range(5)}


def test_the_first_slices_start_afresh_from_the_defaults_and_random_points() -> None:
    driver = Driver(pbt(population=4, steps=2))
    first = [driver.take() for _ in range(4)]
    assert first[0].params == SPACE.defaults()
    assert len({tuple(c.params.values()) for c in first}) == 4
    for trial_id, candidate in enumerate(first, 1):
        assert candidate.checkpoint is not None
        assert (candidate.checkpoint.slot, candidate.checkpoint.start_from) == (
            slot(trial_id),
            None,
        )
    assert driver.ask() is None  # every member is busy


def test_a_member_continues_its_own_last_checkpoint() -> None:
    driver = Driver(pbt(population=2, steps=3, quantile=0.0))
    driver.take()
    driver.take()
    driver.tell(2, 0.5)
    nxt = driver.take()  # member 1 again
    assert nxt.info == {"strategy": "pbt", "member": 1, "step": 1}
    assert nxt.checkpoint is not None
    assert nxt.checkpoint.start_from == slot(2)


# ------------------------------------------------------------------ exploit and explore


def sync_round(driver: Driver, foms: list[float]) -> list[Candidate]:
    """Ask one slice of every member, tell ``foms`` (by member), return the candidates."""
    asked = [driver.take() for _ in foms]
    ids = list(range(driver.last_id - len(foms) + 1, driver.last_id + 1))
    for trial_id, candidate in zip(ids, asked, strict=True):
        driver.tell(trial_id, foms[candidate.info["member"]])
    return asked


def test_exploit_copies_the_checkpoint_and_hyperparameters_of_a_top_member() -> None:
    driver = Driver(pbt(population=4, steps=3, mode="sync", resample_probability=0.0))
    first = sync_round(driver, [0.1, 0.5, 0.6, 0.9])  # member 0 best, member 3 worst
    second = [driver.take() for _ in range(4)]
    by_member = {c.info["member"]: c for c in second}
    worst = by_member[3]
    assert worst.info["exploited_from"] == {"member": 0, "trial": 1}
    assert worst.checkpoint is not None
    assert worst.checkpoint.start_from == slot(1)  # the donor's checkpoint, not its own (4)
    donor = first[0].params
    for flag, how in worst.info["explored"].items():
        value, before = worst.params[flag], donor[flag]
        if flag == "--batch":
            values = [16, 32, 64, 128]
            assert values.index(value) - values.index(before) == int(how)
        else:
            param = SPACE[flag]
            assert isinstance(param, Range)
            assert value == param.clip(before * float(how[1:]))
    for member in (0, 1, 2):  # the others carry on with their own weights
        assert "exploited_from" not in by_member[member].info
        assert by_member[member].params == first[member].params
        assert by_member[member].checkpoint is not None
        assert by_member[member].checkpoint.start_from == slot(member + 1)


def test_the_donor_is_drawn_from_the_top_quantile() -> None:
    donors = set()
    for seed in range(30):
        driver = Driver(pbt(population=8, steps=2, mode="sync", seed=seed + 1))
        sync_round(driver, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
        for candidate in (driver.take() for _ in range(8)):
            if "exploited_from" in candidate.info:
                assert candidate.info["member"] in (6, 7)  # ceil(8 * 0.25) = 2 worst
                donors.add(candidate.info["exploited_from"]["member"])
    assert donors == {0, 1}  # the 2 best, each drawn


def test_a_failed_member_exploits_and_never_donates() -> None:
    driver = Driver(pbt(population=4, steps=2, mode="sync"))
    sync_round(driver, [math.inf, 0.2, 0.3, 0.4])
    by_member = {c.info["member"]: c for c in (driver.take() for _ in range(4))}
    assert by_member[0].info["exploited_from"] == {"member": 1, "trial": 2}


def test_a_failed_slice_leaves_the_member_on_its_last_good_checkpoint() -> None:
    driver = Driver(pbt(population=2, steps=4, quantile=0.0))
    driver.take()  # 1: member 0
    driver.take()  # 2: member 1
    driver.tell(1, 0.5)
    assert driver.take().info == {"strategy": "pbt", "member": 0, "step": 1}  # trial 3
    driver.tell(3, math.inf)  # member 0's second slice crashed: nothing committed
    retry = driver.take()  # 4: member 0, step 2
    assert retry.info["member"] == 0
    assert retry.checkpoint is not None
    assert retry.checkpoint.start_from == slot(1)
    driver.tell(2, math.inf)  # member 1's very first slice failed
    fresh = driver.take()
    assert fresh.info["member"] == 1
    assert fresh.checkpoint is not None
    assert fresh.checkpoint.start_from is None


def test_an_ok_trial_with_an_infinite_fom_was_committed() -> None:
    """The engine commits every slice that ended ``ok``; a diverged FoM ranks last."""
    strategy = pbt(population=2, steps=2, quantile=0.0)
    driver = Driver(strategy)
    candidate = driver.take()
    driver.running.remove(1)
    strategy.tell(
        Trial(id=1, params=candidate.params, fom=math.inf, status=Status.OK, candidate=candidate)
    )
    driver.take()
    nxt = driver.take()
    assert nxt.checkpoint is not None
    assert nxt.checkpoint.start_from == slot(1)


def test_quantile_zero_never_exploits() -> None:
    asked = drive(pbt(population=6, steps=5, quantile=0.0), lambda i, p: p["--lr"], parallel=3)
    first = {c.info["member"]: c.params for c in asked if c.info["step"] == 0}
    for candidate in asked:
        assert "exploited_from" not in candidate.info
        assert candidate.params == first[candidate.info["member"]]


def test_ready_after_spaces_the_decisions() -> None:
    driver = Driver(pbt(population=4, steps=7, mode="sync", ready_after=3))
    exploited_at = set()
    for _ in range(7):
        for candidate in sync_round(driver, [0.1, 0.2, 0.3, 0.4]):
            if "exploited_from" in candidate.info:
                exploited_at.add(candidate.info["step"])
    assert exploited_at == {3, 6}  # decided after slices 3 and 6 (0-based steps 2 and 5)


def test_explore_stays_in_bounds() -> None:
    rng = np.random.default_rng(3)
    edges = Params(
        [
            ["--lr", 1.0, (1e-3, 1.0), {"log": True}],
            ["--n", 8, (1, 8)],
            ["--small", 1, (1, 3)],
            ["--opt", "c", ["a", "b", "c"]],
            ["--only", 5, [5]],
        ]
    )
    point = edges.defaults()
    for _ in range(2000):
        point, moves = explore(point, edges, rng, (0.5, 1.5, 3.0), 0.2)
        for param in edges.parameters:
            assert param.contains(point[param.flag]), (param.flag, point[param.flag])
            if isinstance(param, Range):
                assert type(point[param.flag]) is (int if param.integer else float)
        assert set(moves) == set(edges.flags)
    assert point["--only"] == 5


def test_explore_value_moves() -> None:
    rng = np.random.default_rng(0)
    choice = Choice("--b", (16, 32, 64))
    for _ in range(100):
        value, how = explore_value(32, choice, rng, (0.8, 1.2), 0.0)
        assert (value, how) in ((16, "-1"), (64, "+1"))
        value, how = explore_value(64, choice, rng, (0.8, 1.2), 0.0)
        assert (value, how) in ((32, "-1"), (64, "+0"))  # stays at the end
    lr = Range("--lr", 1e-3, 1.0, integer=False, log=True)
    for _ in range(100):
        value, how = explore_value(0.5, lr, rng, (0.8, 1.2), 0.0)
        assert (value, how) in ((0.4, "x0.8"), (0.6, "x1.2"))
        value, how = explore_value(0.5, lr, rng, (0.8, 1.2), 1.0)
        assert how == "resampled"
        assert 1e-3 <= value <= 1.0


def test_explore_respects_forbidden_values() -> None:
    space = Params(
        [["--opt", "sgd", ["sgd", "lbfgs"]], ["--size", "small", ["small", "large"]]],
        conditions=[condition.equals("--opt", "--size", "small", dependent_param_value="lbfgs")],
    )
    rng = np.random.default_rng(1)
    for _ in range(200):
        point, _ = explore({"--opt": "lbfgs", "--size": "small"}, space, rng, (0.8, 1.2), 0.5)
        assert space.allowed(point)


# ------------------------------------------------------------------ modes


def test_async_has_no_barrier_a_slow_member_holds_up_nobody() -> None:
    driver = Driver(pbt(population=4, steps=5))
    for _ in range(4):
        driver.take()
    slow = 1  # member 0's first slice never finishes here
    while len(driver.asked) < 1 + 3 * 5:
        fast = next(t for t in driver.running if t != slow)
        driver.tell(fast, 0.5 + 0.01 * fast)
        driver.take()
    while driver.running != [slow]:
        driver.tell(next(t for t in driver.running if t != slow), 0.4)
    steps = {
        m: sorted(c.info["step"] for c in driver.asked if c.info["member"] == m) for m in range(4)
    }
    assert steps == {0: [0], 1: [0, 1, 2, 3, 4], 2: [0, 1, 2, 3, 4], 3: [0, 1, 2, 3, 4]}
    assert driver.ask() is None  # only member 0 has slices left, and it is busy
    driver.tell(slow, 0.9)
    assert driver.take().info["member"] == 0


def test_sync_waits_for_every_member_before_the_next_step() -> None:
    driver = Driver(pbt(population=3, steps=3, mode="sync"))
    for _ in range(3):
        driver.take()
    driver.tell(2, 0.1)
    driver.tell(3, 0.2)
    assert driver.ask() is None  # member 0 has not finished step 0
    driver.tell(1, 0.3)
    nxt = [driver.take() for _ in range(3)]
    assert [c.info["step"] for c in nxt] == [1, 1, 1]


# ------------------------------------------------------------------ releasing checkpoints


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_released_slots_are_never_needed_again_and_few_are_kept(mode: str) -> None:
    strategy = pbt(population=6, steps=8, mode=mode, quantile=0.5)
    driver = Driver(strategy)
    released: set[str] = set()
    committed: set[str] = set()
    rng = np.random.default_rng(5)
    while not strategy.finished:
        while len(driver.running) < 4 and (candidate := driver.ask()) is not None:
            assert candidate.checkpoint is not None
            start = candidate.checkpoint.start_from
            assert start is None or (start in committed and start not in released), start
        trial_id = driver.running[int(rng.integers(len(driver.running)))]
        driver.tell(trial_id, float(rng.uniform()))
        committed.add(slot(trial_id))
        now = strategy.released_checkpoints()
        assert not released & set(now)  # each once
        released |= set(now)
        assert len(committed - released) <= 6 + len(driver.running)
    assert len(committed - released) >= 6  # every member's final weights are kept


# ------------------------------------------------------------------ quality on the example


def _example() -> Any:
    path = Path(__file__).parents[2] / "examples" / "pbt" / "train.py"
    spec = importlib.util.spec_from_file_location("pbt_example_train", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _train_population(train: Any, data: Any, config: PBTConfig, seed: int) -> float:
    """Run PBT on the example's training code, checkpoints held in memory the way the engine
    holds them on disk; the best member's final validation loss."""
    space = Params([["--lr", (1e-3, 1.0), {"log": True}], ["--momentum", (0.0, 0.99)]])
    strategy = PBTSearch(space, config, seed=seed)
    driver = Driver(strategy)
    slots: dict[str, Any] = {}
    final: dict[int, float] = {}
    while not strategy.finished:
        while len(driver.running) < 4 and driver.ask() is not None:
            pass
        trial_id = driver.running[0]
        candidate = driver.candidate(trial_id)
        assert candidate.checkpoint is not None
        start = candidate.checkpoint.start_from
        state = slots[start] if start is not None else train.new_state(0)
        state = train.train_epoch(
            state, data, candidate.params["--lr"], candidate.params["--momentum"]
        )
        slots[candidate.checkpoint.slot] = state
        final[candidate.info["member"]] = state["history"][-1]["val_loss"]
        driver.tell(trial_id, final[candidate.info["member"]])
        for released in strategy.released_checkpoints():
            del slots[released]
    return min(final.values())


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_pbt_beats_the_same_population_with_fixed_hyperparameters(mode: str) -> None:
    """Same initial population (same seed), same epochs in all; quantile=0 never exploits."""
    train = _example()
    data = train.make_data()
    tuned, fixed = [], []
    for seed in range(1, 8):
        settings = {"population": 8, "steps": 12, "mode": mode}
        tuned.append(_train_population(train, data, PBTConfig(**settings), seed))
        fixed.append(_train_population(train, data, PBTConfig(**settings, quantile=0.0), seed))
    assert statistics.median(tuned) < 0.9 * statistics.median(fixed), (tuned, fixed)
