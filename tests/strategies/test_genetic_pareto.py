"""The genetic search with several objectives: NSGA-II ranking inside each deme."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from hyperdeme import Params, Status, Trial
from hyperdeme.strategies import GeneticConfig, GeneticSearch
from hyperdeme.strategies._deme import Deme, Individual, selection_key

FLAGS = [f"--x{i}" for i in range(4)]
SPACE = Params([[flag, (0.0, 1.0)] for flag in FLAGS])


def zdt1(point: dict[str, Any]) -> tuple[float, float]:
    x = [point[flag] for flag in FLAGS]
    g = 1 + 9 * sum(x[1:]) / (len(x) - 1)
    return x[0], g * (1 - math.sqrt(x[0] / g))


def run(seed: int, *, several: bool, budget: int = 240, parallel: int = 1) -> list[Trial]:
    """Drive a genetic search on ZDT1 (4-D); with ``several``, told both objectives,
    else only the first as its FoM. Told out of order with ``parallel`` > 1."""
    search = GeneticSearch(SPACE, GeneticConfig(max_evals=budget), seed=seed)
    told: list[Trial] = []
    running: list[tuple[int, Any]] = []
    next_id = 1
    while not search.finished:
        while len(running) < parallel and (candidate := search.ask(next_id)) is not None:
            running.append((next_id, candidate))
            next_id += 1
        trial_id, candidate = running.pop(len(running) // 2)
        f1, f2 = zdt1(candidate.params)
        trial = Trial(
            id=trial_id,
            params=dict(candidate.params),
            fom=f1,
            status=Status.OK,
            info=dict(candidate.info),
            candidate=candidate,
            objectives={"f1": f1, "f2": f2} if several else {},
        )
        search.tell(trial)
        told.append(trial)
    return told


def hypervolume(trials: list[Trial]) -> float:
    area, ceiling = 0.0, 1.1
    for f1, f2 in sorted(zdt1(t.candidate.params) for t in trials if t.candidate is not None):
        if f1 < 1.1 and f2 < ceiling:
            area += (1.1 - f1) * (ceiling - f2)
            ceiling = f2
    return area


def test_nsga2_selection_spreads_the_front_far_beyond_one_objective() -> None:
    """The same search told only the first objective crowds at f1 = 0; told both it
    covers the front (hypervolume in [0, 1.1]^2; the true front's is 0.877)."""
    pareto = [hypervolume(run(seed, several=True)) for seed in range(3)]
    single = [hypervolume(run(seed, several=False)) for seed in range(3)]
    assert float(np.median(pareto)) > 0.6
    assert float(np.median(pareto)) > float(np.median(single)) + 0.2


def test_the_same_tells_give_the_same_candidates_with_several_objectives() -> None:
    """Resume replays the journal: the search must be a function of its seed and the
    order of its tells, here out of finishing order."""
    first = run(5, several=True, budget=80, parallel=4)
    again = run(5, several=True, budget=80, parallel=4)
    assert [t.params for t in first] == [t.params for t in again]


def _ind(trial_id: int, *scores: float) -> Individual:
    return Individual({"--x": trial_id}, scores[0] if scores else math.inf, trial_id, scores)


def test_a_deme_keeps_the_front_and_drops_the_dominated_steady_state() -> None:
    deme = Deme(3)
    for member in (_ind(1, 0.0, 4.0), _ind(2, 4.0, 0.0), _ind(3, 2.0, 2.0)):
        assert deme.add(member)
    assert not deme.add(_ind(4, 3.0, 3.0))  # dominated by 3: not kept
    assert deme.add(_ind(5, 1.0, 1.0))  # dominates 3, which leaves
    assert {m.trial_id for m in deme.members} == {1, 2, 5}
    assert not deme.add(_ind(6))  # a failed trial (no scores) is worse than all
    # a fourth point of the front, more crowded (distance 1.0) than 5 (1.375): it leaves
    assert not deme.add(_ind(7, 0.5, 2.0))
    assert {m.trial_id for m in deme.members} == {1, 2, 5}
    assert deme.add(_ind(8, 0.1, 0.1))  # dominates 5 (and 7): the extremes stay
    assert {m.trial_id for m in deme.members} == {1, 2, 8}


def test_a_deme_orders_by_front_then_crowding() -> None:
    deme = Deme(6)
    for member in (
        _ind(1, 0.0, 4.0),
        _ind(2, 0.2, 3.8),  # crowded next to 1
        _ind(3, 2.0, 2.0),
        _ind(4, 4.0, 0.0),
        _ind(5, 3.0, 3.0),  # second front
    ):
        deme.add(member)
    order = [m.trial_id for m in deme.members]
    assert order[-1] == 5
    assert set(order[:2]) == {1, 4}  # the extremes: infinitely far from the others
    assert order.index(3) < order.index(2)


@pytest.mark.parametrize("mode", ["steady", "generational"])
def test_both_modes_run_with_several_objectives(mode: str) -> None:
    search = GeneticSearch(SPACE, GeneticConfig(max_evals=40, mode=mode), seed=1)
    trial_id = 1
    while not search.finished:
        candidate = search.ask(trial_id)
        assert candidate is not None
        f1, f2 = zdt1(candidate.params)
        search.tell(
            Trial(
                id=trial_id,
                params=dict(candidate.params),
                fom=f1,
                candidate=candidate,
                objectives={"f1": f1, "f2": f2},
            )
        )
        trial_id += 1
    assert trial_id == 41
    assert all(len(m.scores) == 2 for deme in search.demes for m in deme)


def test_tournaments_compare_nsga2_ranks_not_the_first_objective() -> None:
    pool = [_ind(1, 0.0, 4.0), _ind(2, 4.0, 0.0), _ind(3, 2.0, 2.0), _ind(4, 3.0, 3.0)]
    ranked = sorted(pool, key=selection_key(pool))
    assert [m.trial_id for m in ranked][-1] == 4  # the only dominated one
    assert {m.trial_id for m in ranked[:2]} == {1, 2}  # the front's extremes
    one = [_ind(5, 2.0), _ind(6, 1.0)]
    assert [m.trial_id for m in sorted(one, key=selection_key(one))] == [6, 5]
