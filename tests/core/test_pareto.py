"""Pareto dominance: the front, NSGA-II's fronts and crowding, and ``Result.pareto_front``."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperdeme import Result, Status, Trial
from hyperdeme._core._direction import scored
from hyperdeme._core._pareto import crowding, dominates, fronts, non_dominated, pareto_order

# few distinct values, so ties and equal points are common
_VALUE = st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf])


def _points(width: int) -> st.SearchStrategy[list[tuple[float, ...]]]:
    return st.lists(st.tuples(*[_VALUE] * width), max_size=40)


_ANY_POINTS = st.integers(1, 4).flatmap(_points)


@given(_ANY_POINTS)
@settings(max_examples=300, deadline=None)
def test_the_front_is_exactly_the_points_no_other_dominates(
    points: list[tuple[float, ...]],
) -> None:
    front = set(non_dominated(points))
    for i, point in enumerate(points):
        beaten = any(dominates(other, point) for other in points)
        assert (i in front) == (not beaten)
        if i not in front:  # dominated by one of the front (dominance is transitive)
            assert any(dominates(points[j], point) for j in front)


@given(_ANY_POINTS)
@settings(max_examples=300, deadline=None)
def test_fronts_partition_the_points_each_dominated_only_by_earlier_fronts(
    points: list[tuple[float, ...]],
) -> None:
    levels = fronts(points)
    assert sorted(i for level in levels for i in level) == list(range(len(points)))
    assert (levels[0] if levels else []) == non_dominated(points)
    for depth, level in enumerate(levels):
        for i in level:
            for j in level:  # nobody in a front dominates another of it
                assert not dominates(points[j], points[i])
            if depth:  # dominated by someone of the front before
                assert any(dominates(points[j], points[i]) for j in levels[depth - 1])


def test_a_nan_objective_counts_as_the_worst() -> None:
    assert non_dominated([(math.nan, 0.0), (1.0, 0.0)]) == [1]


def test_crowding_gives_the_extremes_infinity_and_the_inner_points_their_gaps() -> None:
    # a front along f1 + f2 = 4: the inner points' gaps over each objective's range
    points = [(0.0, 4.0), (1.0, 3.0), (3.0, 1.0), (4.0, 0.0)]
    distances = crowding(points)
    assert distances[0] == distances[3] == math.inf
    assert distances[1] == pytest.approx(3 / 4 + 3 / 4)
    assert distances[2] == pytest.approx(3 / 4 + 3 / 4)
    assert crowding([(1.0, 2.0), (2.0, 1.0)]) == [math.inf, math.inf]
    # three objectives: the last point is the largest in one objective, the smallest in none
    three = crowding([(0, 3, 1), (1, 0, 3), (3, 1, 0), (2, 2, 2), (1.5, 1.5, 4)])
    assert three[4] == math.inf
    assert math.isfinite(three[3])
    # the more isolated inner point comes first in NSGA-II's order
    order = pareto_order([(0.0, 4.0), (0.5, 3.5), (3.0, 1.0), (4.0, 0.0), (4.0, 4.0)])
    assert [rank[0] for rank in order] == [0, 0, 0, 0, 1]
    assert order[2] < order[1]


def _trial(trial_id: int, status: Status = Status.OK, **objectives: float) -> Trial:
    values = dict(objectives)
    return Trial(
        id=trial_id,
        params={"--x": trial_id},
        fom=next(iter(values.values()), math.inf),
        status=status,
        objectives=values,
    )


def test_result_pareto_front_respects_each_direction_and_orders_by_the_first() -> None:
    trials = [
        _trial(1, loss=0.5, acc=0.70),
        _trial(2, loss=0.3, acc=0.60),
        _trial(3, loss=0.6, acc=0.65),  # dominated by 1: more loss, less accuracy
        _trial(4, loss=0.2, acc=0.50),
        _trial(5, Status.STOPPED, loss=0.1, acc=0.99),  # not ok: never in the front
        _trial(6, loss=0.3, acc=0.60),  # equal to 2: both belong
        _trial(7, loss=0.9, acc=0.95),
    ]
    result = Result(trials=trials, objectives={"loss": "minimize", "acc": "maximize"})
    assert [t.id for t in result.pareto_front] == [4, 2, 6, 1, 7]
    # maximising loss instead: 7 beats everything on loss, 1 and 3 keep a trade-off
    flipped = Result(trials=trials, objectives={"loss": "maximize", "acc": "maximize"})
    assert [t.id for t in flipped.pareto_front] == [7]


def test_with_one_fom_the_front_is_the_best_trials() -> None:
    trials = [
        Trial(id=1, params={}, fom=2.0),
        Trial(id=2, params={}, fom=1.0),
        Trial(id=3, params={}, fom=1.0),
    ]
    assert [t.id for t in Result(trials=trials).pareto_front] == [2, 3]
    assert [t.id for t in Result(trials=trials, direction="maximize").pareto_front] == [1]


_TRIALS = st.lists(
    st.tuples(st.sampled_from([0.0, 1.0, 2.0, 3.0]), st.sampled_from([0.0, 1.0, 2.0, 3.0])),
    max_size=30,
)


@given(
    _TRIALS, st.sampled_from(["minimize", "maximize"]), st.sampled_from(["minimize", "maximize"])
)
@settings(max_examples=200, deadline=None)
def test_result_front_no_member_dominated_every_other_trial_dominated_by_a_member(
    values: list[tuple[float, float]], first: Any, second: Any
) -> None:
    directions = {"a": first, "b": second}
    trials = [_trial(i, a=a, b=b) for i, (a, b) in enumerate(values, 1)]
    front = Result(trials=trials, objectives=directions).pareto_front

    def better(x: Trial, y: Trial) -> bool:  # x dominates y in the user's directions
        sign = {"minimize": 1.0, "maximize": -1.0}
        xs = [sign[d] * x.objectives[n] for n, d in directions.items()]
        ys = [sign[d] * y.objectives[n] for n, d in directions.items()]
        return dominates(xs, ys)

    ids = {t.id for t in front}
    for t in trials:
        if t.id in ids:
            assert not any(better(o, t) for o in trials)
        else:
            assert any(better(f, t) for f in front)
    firsts = [t.objectives["a"] * (1 if first == "minimize" else -1) for t in front]
    assert firsts == sorted(firsts)


def test_strategies_are_told_each_objective_as_a_score() -> None:
    trial = _trial(1, loss=0.25, acc=0.75)
    told = scored(trial, "minimize", {"loss": "minimize", "acc": "maximize"})
    assert told.objectives == {"loss": 0.25, "acc": -0.75}
    assert trial.objectives == {"loss": 0.25, "acc": 0.75}  # the journal's keeps its numbers
    assert scored(trial, "minimize", {"loss": "minimize", "acc": "minimize"}) is trial


def test_the_journal_record_holds_objectives_only_when_there_are_some() -> None:
    trial = _trial(1, loss=0.25, acc=math.inf)
    record = trial.to_json()
    assert record["objectives"] == {"loss": 0.25, "acc": "inf"}
    assert Trial.from_json(record).objectives == {"loss": 0.25, "acc": math.inf}
    plain = Trial(id=2, params={}, fom=1.0)
    assert "objectives" not in plain.to_json()  # a single FoM's record is as it was
    assert Trial.from_json(plain.to_json()).objectives == {}
