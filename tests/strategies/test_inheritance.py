"""crayai-style PBT in the genetic search: children continue their fitter parent's checkpoint."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hyperdeme import Params
from hyperdeme.strategies import GeneticConfig, GeneticSearch

from ._drive import Driver, drive

SPACE = Params([["--lr", 0.1, (1e-3, 1.0), {"log": True}], ["--momentum", 0.9, (0.0, 0.99)]])


def _fom(trial_id: int, params: dict[str, Any]) -> float:
    return abs(params["--lr"] - 0.3) + params["--momentum"] / 10


def ga(**settings: Any) -> GeneticSearch:
    settings.setdefault("inherit_checkpoints", True)
    seed = settings.pop("seed", 3)
    return GeneticSearch(SPACE, GeneticConfig(**settings), seed=seed)


def slot(trial_id: int) -> str:
    return f"{trial_id:05d}"


def trial_of(slot_name: str | None) -> int | None:
    return None if slot_name is None else int(slot_name)


def test_without_inherit_checkpoints_there_are_no_plans() -> None:
    for candidate in drive(ga(inherit_checkpoints=False, generations=3, pop_size=4), _fom):
        assert candidate.checkpoint is None
        assert "epoch" not in candidate.info


@pytest.mark.parametrize("mode", ["steady", "generational"])
@pytest.mark.parametrize(("parallel", "lifo"), [(1, False), (3, False), (3, True), (8, False)])
def test_a_child_continues_its_fitter_parents_own_checkpoint(
    mode: str, parallel: int, lifo: bool
) -> None:
    """With gens_per_epoch=1 every child starts from the checkpoint its fitter parent's own
    evaluation wrote, whatever order trials finish in: its parents are of earlier
    generations (in steady mode too), so that checkpoint holds no more epochs than the
    child's generation."""
    for seed in (1, 2, 3):
        strategy = ga(generations=5, num_demes=2, pop_size=4, mode=mode, seed=seed)
        asked = drive(strategy, _fom, parallel=parallel, lifo=lifo)
        foms = {i: _fom(i, c.params) for i, c in enumerate(asked, 1)}
        children = 0
        for trial_id, candidate in enumerate(asked, 1):
            assert candidate.checkpoint is not None
            assert candidate.checkpoint.slot == slot(trial_id)
            parents = candidate.info["parents"]
            start = trial_of(candidate.checkpoint.start_from)
            if not parents:
                assert start is None
                continue
            children += 1
            generation = candidate.info["generation"]
            assert all(asked[p - 1].info["generation"] < generation for p in parents)
            assert start == min(parents, key=lambda p: (foms[p], p)), (seed, trial_id)
        assert children > 20


def _sibling_setup(seed: int, *, inherit: bool) -> tuple[list[int], str | None]:
    """Steady mode, 1 deme of 4: trials 1-4 start, 1 finishes, its child 5 (generation 1)
    finishes far better than anything else; the parents and start of child 6 (also
    generation 1)."""
    strategy = ga(generations=3, num_demes=1, pop_size=4, seed=seed, inherit_checkpoints=inherit)
    driver = Driver(strategy)
    for _ in range(4):
        driver.take()
    driver.tell(1, 0.5)
    assert driver.take().info["generation"] == 1
    driver.tell(5, 0.001)
    child = driver.take()
    assert child.info["generation"] == 1
    return child.info["parents"], None if child.checkpoint is None else child.checkpoint.start_from


def test_in_steady_mode_a_sibling_of_the_same_generation_is_not_a_parent() -> None:
    """Trial 5 is the deme's best but of the child's own generation: with checkpoints its
    weights hold as many epochs as the child should start from plus one, so the child's
    parents are chosen among the earlier generation (trial 1) and it continues trial 1's own
    checkpoint; without checkpoints selection is as always, and trial 5 is a parent."""
    for seed in range(1, 11):
        assert _sibling_setup(seed, inherit=True) == ([1], slot(1))
    assert any(5 in _sibling_setup(seed, inherit=False)[0] for seed in range(1, 11))


def test_gens_per_epoch_generations_train_from_the_same_depth() -> None:
    """Epoch e = generation // gens_per_epoch starts from weights trained e epochs."""
    asked = drive(ga(generations=7, pop_size=4, num_demes=1, gens_per_epoch=3), _fom, parallel=2)
    depth: dict[int, int] = {}
    starts: dict[int, int | None] = {}
    own_across_epochs = 0
    for trial_id, candidate in enumerate(asked, 1):
        assert candidate.checkpoint is not None
        start = trial_of(candidate.checkpoint.start_from)
        starts[trial_id] = start
        epoch = candidate.info["generation"] // 3
        assert candidate.info["epoch"] == epoch
        start_depth = 0 if start is None else depth[start]
        assert start_depth <= epoch
        if candidate.info["parents"]:
            fitter_line = {p for p in candidate.info["parents"]} | {
                starts[p] for p in candidate.info["parents"]
            }
            assert start in fitter_line
            fitter = min(candidate.info["parents"], key=lambda p: (_fom(p, asked[p - 1].params), p))
            if asked[fitter - 1].info["epoch"] < epoch:  # an earlier epoch: its own weights
                assert start == fitter, trial_id
                own_across_epochs += 1
        depth[trial_id] = start_depth + 1
    assert own_across_epochs >= 2
    by_epoch: dict[int, set[int]] = {}
    for trial_id, candidate in enumerate(asked, 1):
        start = starts[trial_id]
        by_epoch.setdefault(candidate.info["epoch"], set()).add(
            0 if start is None else depth[start]
        )
    assert by_epoch[0] == {0}  # three generations on fresh weights
    assert by_epoch[1] == {1}  # then one epoch on
    assert max(by_epoch[2]) == 2


def test_a_failed_parent_hands_on_the_checkpoint_it_started_from() -> None:
    strategy = ga(generations=3, pop_size=2, num_demes=1, mode="generational")
    driver = Driver(strategy)
    for _ in range(2):
        driver.take()
    driver.tell(1, 0.5)
    driver.tell(2, math.inf)
    child = driver.take()  # generation 1: the elite (trial 1) is kept, one child
    assert child.info["parents"] == [1]
    assert child.checkpoint is not None
    assert child.checkpoint.start_from == slot(1)
    driver.tell(3, math.inf)  # the child failed too
    grandchild = driver.take()
    fitter = min(grandchild.info["parents"], key=lambda p: (0.5 if p == 1 else math.inf, p))
    assert grandchild.checkpoint is not None
    expected = {1: slot(1), 3: slot(1)}[fitter]  # trial 3 has no checkpoint: its own start
    assert grandchild.checkpoint.start_from == expected


def test_checkpoints_of_trials_no_child_can_reach_are_released() -> None:
    strategy = ga(generations=6, pop_size=3, num_demes=1, mode="generational")
    driver = Driver(strategy)
    released: list[str] = []
    while not strategy.finished:
        while driver.ask() is not None:
            pass
        for trial_id in list(driver.running):
            driver.tell(trial_id, _fom(trial_id, driver.candidate(trial_id).params))
            released += strategy.released_checkpoints()
    assert len(released) == len(set(released))
    kept = {slot(i) for i in range(1, len(driver.asked) + 1)} - set(released)
    assert len(kept) <= 2 * 3  # the population and the checkpoints they started from
