"""The step-scale adaptation: the 1/5 success rule, alone and inside the genetic search."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hyperdeme import Params
from hyperdeme.strategies import GeneticConfig, GeneticSearch
from hyperdeme.strategies._adaptation import MAX_SCALE, MIN_SCALE, Adaptation

from ._drive import Driver


def test_one_success_in_five_holds_the_scale() -> None:
    adaptation = Adaptation()
    assert adaptation.scale == 1.0
    for _ in range(10):
        adaptation.record(True)
        for _ in range(4):
            adaptation.record(False)
    assert adaptation.scale == pytest.approx(1.0)
    assert (adaptation.told, adaptation.successes) == (50, 10)


def test_successes_grow_the_scale_and_failures_shrink_it_within_bounds() -> None:
    growing, shrinking = Adaptation(), Adaptation()
    growing.record(True)
    shrinking.record(False)
    assert growing.scale == pytest.approx(math.exp(1 / 3))
    assert shrinking.scale == pytest.approx(math.exp(-1 / 12))
    for _ in range(1000):
        growing.record(True)
        shrinking.record(False)
    assert (growing.scale, shrinking.scale) == (MAX_SCALE, MIN_SCALE)


def _distance_to_900(trial_id: int, params: dict[str, Any]) -> float:
    return abs(params["--x"] - 900.0)


def _scale_after(start: float, evaluations: int) -> float:
    space = Params([["--x", start, (-1000.0, 1000.0)]])
    ga = GeneticSearch(space, GeneticConfig(num_demes=1, pop_size=4, generations=100), seed=3)
    driver = Driver(ga)
    for _ in range(evaluations):
        candidate = driver.take()
        driver.tell(driver.last_id, _distance_to_900(driver.last_id, candidate.params))
    return ga.scales[0]


@pytest.fixture
def no_jumps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local children only: a redrawn --x would land near 900 and end the slope at once."""
    monkeypatch.setattr("hyperdeme.strategies._genetic.JUMP_RATE", 0.0)


@pytest.mark.usefixtures("no_jumps")
def test_far_from_the_optimum_the_steps_grow() -> None:
    # 1,800 away, crayai's steps (about 90 here) are timid: every other child gets closer
    assert _scale_after(-900.0, 20) > 3.0


@pytest.mark.usefixtures("no_jumps")
def test_near_the_optimum_the_steps_shrink() -> None:
    # 1 away, the same steps overshoot: few children beat their parent
    assert _scale_after(899.0, 20) < 0.5
    assert _scale_after(899.0, 60) < 0.1


def test_only_local_children_move_the_scale() -> None:
    space = Params([["--x", 0.0, (-1000.0, 1000.0)], ["--y", 0.0, (-1000.0, 1000.0)]])
    ga = GeneticSearch(space, GeneticConfig(num_demes=1, pop_size=2, generations=50), seed=4)
    driver = Driver(ga)
    for trial_id in (1, 2):
        driver.take()
        driver.tell(trial_id, 10.0)
    kinds = set()
    while len(kinds) < 2:
        child = driver.take()
        before = ga.scales[0]
        driver.tell(driver.last_id, 1.0 / driver.last_id)  # better than any parent: a success
        assert child.info["scale"] == pytest.approx(before)
        if child.info["jump"]:
            assert ga.scales[0] == before
        else:
            assert ga.scales[0] == pytest.approx(before * math.exp(1 / 3))
        kinds.add(child.info["jump"])
