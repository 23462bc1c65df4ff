"""Statistics of the variation operators (pure functions, so plain numpy draws)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from hyperdeme import Params
from hyperdeme._space import Choice, Range
from hyperdeme.strategies._mutation import (
    crossover,
    mutate_choice,
    mutate_point,
    mutate_range,
)

MUL = (0.01, 0.1, 0.2)
ADD = (0.03, 0.03, 0.13)


def test_index_moves_concentrate_near_the_source() -> None:
    param = Choice("--k", tuple(range(100)))
    rng = np.random.default_rng(1)
    steps = Counter(mutate_choice(20, param, rng) - 20 for _ in range(20_000))
    assert steps[0] == 0
    near = steps[1] + steps[-1]
    far = sum(n for step, n in steps.items() if abs(step) >= 40)
    assert near > 0.4 * 20_000
    assert far < 0.001 * 20_000
    assert near > 100 * max(far, 1)
    assert steps[1] == pytest.approx(steps[-1], rel=0.1)  # both directions


def test_index_moves_reflect_at_the_ends() -> None:
    param = Choice("--k", ("a", "b", "c", "d"))
    rng = np.random.default_rng(2)
    moved = Counter(mutate_choice("a", param, rng) for _ in range(10_000))
    assert set(moved) <= {"b", "c", "d"}
    assert moved["b"] > moved["c"] > moved["d"] > 0


def test_a_two_value_list_always_flips_and_one_value_stays() -> None:
    rng = np.random.default_rng(3)
    assert all(mutate_choice(1, Choice("--f", (1, 2)), rng) == 2 for _ in range(100))
    assert mutate_choice("x", Choice("--s", ("x",)), rng) == "x"


@pytest.mark.parametrize(
    "param",
    [
        Range("--x", 0.0, 1.0, integer=False),
        Range("--x", -3.0, 7.0, integer=False),
        Range("--n", 1, 10, integer=True),
        Range("--n", -5, 5, integer=True),
        Range("--lr", 1e-6, 1.0, integer=False, log=True),
        Range("--layers", 1, 512, integer=True, log=True),
    ],
    ids=str,
)
def test_ranges_never_escape_and_ints_stay_int(param: Range) -> None:
    rng = np.random.default_rng(4)
    value = param.sample(rng)
    seen = set()
    for _ in range(5000):
        moved = mutate_range(value, param, rng, MUL, ADD)
        assert param.contains(moved), moved
        assert type(moved) is (int if param.integer else float)
        assert moved != value  # every mutation moves the gene
        value = moved
        seen.add(moved)
    assert len(seen) > (5 if param.integer else 1000)


def test_an_integer_gene_moves_even_when_the_step_rounds_to_nothing() -> None:
    param = Range("--n", 1, 1000, integer=True)
    rng = np.random.default_rng(5)
    tiny = (1e-6, 1e-6, 1e-6)
    moves = Counter(mutate_range(500, param, rng, tiny, tiny) for _ in range(1000))
    assert set(moves) == {499, 501}


def test_a_zero_gene_moves() -> None:
    rng = np.random.default_rng(6)
    real = Range("--x", -1.0, 1.0, integer=False)
    assert all(mutate_range(0.0, real, rng, MUL, ADD) != 0.0 for _ in range(1000))
    whole = Range("--n", -5, 5, integer=True)
    assert all(mutate_range(0, whole, rng, MUL, ADD) != 0 for _ in range(1000))


def test_a_gene_at_a_bound_moves_inward() -> None:
    rng = np.random.default_rng(7)
    param = Range("--x", 0.0, 1.0, integer=False)
    assert all(mutate_range(1.0, param, rng, MUL, ADD) < 1.0 for _ in range(1000))


def test_log_ranges_move_additively_in_log_space() -> None:
    # from the bottom of 6 decades, an additive move of up to 13% of the span
    # reaches ~6 times higher; in linear space it would jump to ~0.13
    param = Range("--lr", 1e-6, 1.0, integer=False, log=True)
    rng = np.random.default_rng(8)
    moved = [mutate_range(1e-6, param, rng, MUL, ADD) for _ in range(2000)]
    assert max(moved) < 1e-5
    assert max(moved) > 4e-6


def test_moves_are_small_or_large_multiplicative_or_additive() -> None:
    param = Range("--x", 0.0, 100.0, integer=False)
    rng = np.random.default_rng(9)
    deltas = np.array([mutate_range(50.0, param, rng, MUL, ADD) - 50.0 for _ in range(20_000)])
    size = np.abs(deltas)
    assert size.max() <= 13.0 + 1e-9  # 0.13 * span, or 0.2 * 50
    assert (size <= 3.0).mean() > 0.45  # small moves: <= 3% of span or 1% of x
    assert np.mean(deltas > 0) == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.33, 0.8, 1.0])
def test_crossover_takes_genes_from_the_second_parent_at_its_rate(rate: float) -> None:
    rng = np.random.default_rng(10)
    first = {f"--g{i}": 0 for i in range(100)}
    second = {f"--g{i}": 1 for i in range(100)}
    taken = [sum(crossover(first, second, rng, rate).values()) for _ in range(200)]
    assert list(crossover(first, second, rng, rate)) == list(first)
    assert np.mean(taken) / 100 == pytest.approx(rate, abs=0.01)


@pytest.mark.parametrize("rate", [0.05, 0.3, 1.0])
def test_mutate_point_mutates_each_gene_at_its_rate(rate: float) -> None:
    space = Params([[f"--k{i}", list(range(10))] for i in range(50)])
    rng = np.random.default_rng(11)
    point = {flag: 5 for flag in space.flags}
    changed = [
        sum(v != 5 for v in mutate_point(point, space, rng, rate, MUL, ADD).values())
        for _ in range(200)
    ]
    assert np.mean(changed) / 50 == pytest.approx(rate, abs=0.02)
    assert point == {flag: 5 for flag in space.flags}  # the input is not changed


def test_mutate_point_can_force_one_change() -> None:
    space = Params([["--a", (0.0, 1.0)], ["--b", ["x", "y"]]])
    rng = np.random.default_rng(12)
    point = {"--a": 0.5, "--b": "x"}
    for _ in range(100):
        child = mutate_point(point, space, rng, 0.0, MUL, ADD, at_least_one=["--b"])
        assert child == {"--a": 0.5, "--b": "y"}
    assert math.isclose(mutate_point(point, space, rng, 0.0, MUL, ADD)["--a"], 0.5)
