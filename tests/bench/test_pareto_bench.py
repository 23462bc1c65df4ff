"""The Pareto benchmark's scoring: ZDT1/ZDT2 and the 2-D hypervolume."""

from __future__ import annotations

import math

import pytest
from benchmarks.pareto import FLAGS, IDEAL, PROBLEMS, REFERENCE, hypervolume


def test_hypervolume_is_the_dominated_area_inside_the_reference() -> None:
    assert hypervolume([(0.0, 1.0), (1.0, 0.0)], (2.0, 2.0)) == 3.0
    # a dominated point and a point outside the box add nothing
    assert hypervolume([(0.0, 1.0), (1.0, 0.0), (1.5, 1.5), (3.0, -1.0)], (2.0, 2.0)) == 3.0
    assert hypervolume([], REFERENCE) == 0.0


@pytest.mark.parametrize("problem", ["zdt1-6d", "zdt2-6d"])
def test_a_dense_sample_of_the_true_front_reaches_the_ideal(problem: str) -> None:
    objective = PROBLEMS[problem]
    points = []
    for i in range(2001):  # on the front: every coordinate but the first is 0 (g = 1)
        params = dict.fromkeys(FLAGS, 0.0) | {FLAGS[0]: i / 2000}
        points.append(objective(params))
    assert hypervolume(points, REFERENCE) == pytest.approx(IDEAL[problem], abs=1e-3)
    off_front = objective(dict.fromkeys(FLAGS, 0.5))
    assert off_front[1] > 1 - math.sqrt(0.5)  # g > 1 lifts f2 above the front
