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
    redraw_value,
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
@pytest.mark.parametrize("scale", [0.01, 1.0, 7.5])
def test_ranges_never_escape_and_ints_stay_int(param: Range, scale: float) -> None:
    rng = np.random.default_rng(4)
    value = param.sample(rng)
    seen = set()
    for _ in range(5000):
        moved = mutate_range(value, param, rng, MUL, ADD, scale)
        assert param.contains(moved), moved
        assert type(moved) is (int if param.integer else float)
        assert moved != value  # every mutation moves the gene
        value = moved
        seen.add(moved)
    assert len(seen) > (5 if param.integer else 1000)
    for _ in range(500):
        redrawn = redraw_value(value, param, rng)
        assert param.contains(redrawn), redrawn
        assert type(redrawn) is (int if param.integer else float)
        assert redrawn != value


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


@pytest.mark.parametrize("scale", [0.1, 1.0, 3.0])
def test_the_scale_multiplies_the_step_sizes(scale: float) -> None:
    param = Range("--x", 0.0, 1000.0, integer=False)
    rng = np.random.default_rng(13)
    size = np.abs([mutate_range(500.0, param, rng, MUL, ADD, scale) - 500.0 for _ in range(5000)])
    largest = max(0.13 * 1000, 0.2 * 500) * scale  # additive 13 % of the span, or 20 % of x
    assert size.max() <= largest + 1e-9
    assert size.max() > 0.9 * largest
    assert 0.5 * scale < np.mean(size) / 35.0 < 2.0 * scale  # about 35 at scale 1


def test_a_range_straddling_zero_moves_additively() -> None:
    # a relative move of a gene near 0 would be tiny and never change its sign
    param = Range("--x", -1.0, 1.0, integer=False)
    rng = np.random.default_rng(14)
    moved = np.array([mutate_range(1e-6, param, rng, MUL, ADD) for _ in range(5000)])
    assert np.mean(np.abs(moved - 1e-6) < 1e-4) < 0.01
    assert np.mean(moved < 0) == pytest.approx(0.5, abs=0.03)


def test_a_one_signed_range_also_moves_multiplicatively() -> None:
    # crayai's relative moves: a gene at 1e-3 of (0, 100) moves by <= 20 % of itself half the time
    param = Range("--x", 0.0, 100.0, integer=False)
    rng = np.random.default_rng(15)
    moved = np.array([mutate_range(1e-3, param, rng, MUL, ADD) for _ in range(5000)])
    assert np.mean(np.abs(moved - 1e-3) <= 2e-4) == pytest.approx(0.5, abs=0.03)


def test_redraws_cover_the_whole_domain_uniformly() -> None:
    rng = np.random.default_rng(16)
    whole = Range("--n", 1, 10, integer=True)
    drawn = Counter(redraw_value(3, whole, rng) for _ in range(9000))
    assert set(drawn) == set(range(1, 11)) - {3}
    assert all(n == pytest.approx(1000, rel=0.15) for n in drawn.values())
    log = Range("--lr", 1e-6, 1.0, integer=False, log=True)
    exponents = np.log10([redraw_value(1e-3, log, rng) for _ in range(5000)])
    assert np.median(exponents) == pytest.approx(-3.0, abs=0.15)  # log-uniform
    assert exponents.min() < -5.8
    assert exponents.max() > -0.2
    listed = Choice("--k", ("a", "b", "c", "d"))
    others = Counter(redraw_value("b", listed, rng) for _ in range(3000))
    assert set(others) == {"a", "c", "d"}  # any index, not only the nearby ones
    assert all(n == pytest.approx(1000, rel=0.15) for n in others.values())
    assert redraw_value("x", Choice("--s", ("x",)), rng) == "x"


def test_a_jump_redraws_exactly_one_of_the_mutated_genes() -> None:
    space = Params([[f"--x{i}", (0.0, 1.0)] for i in range(10)])
    point = {flag: 0.5 for flag in space.flags}
    tiny = 1e-9  # local moves stay within 1e-9 of 0.5: a redrawn gene is one that moved far
    rng = np.random.default_rng(17)
    for rate in (0.3, 1.0):
        for jump in (True, False):
            for _ in range(300):
                child = mutate_point(point, space, rng, rate, MUL, ADD, scale=tiny, jump=jump)
                mutated = sum(v != 0.5 for v in child.values())
                far = sum(abs(v - 0.5) > 1e-6 for v in child.values())
                assert far == (1 if jump and mutated else 0)
    forced = mutate_point(
        point, space, rng, 0.0, MUL, ADD, scale=tiny, jump=True, at_least_one=["--x3"]
    )
    assert [flag for flag, v in forced.items() if v != 0.5] == ["--x3"]
    assert abs(forced["--x3"] - 0.5) > 1e-6


def test_operators_are_deterministic_with_a_seed() -> None:
    space = Params(
        [
            ["--x", (0.0, 1.0)],
            ["--n", (1, 100)],
            ["--lr", (1e-5, 1.0), {"log": True}],
            ["--opt", ["sgd", "adam", "rmsprop"]],
        ]
    )
    point = {"--x": 0.5, "--n": 50, "--lr": 1e-3, "--opt": "adam"}

    def draws(seed: int) -> list[dict[str, object]]:
        rng = np.random.default_rng(seed)
        return [
            mutate_point(point, space, rng, 0.5, MUL, ADD, scale=scale, jump=jump)
            for scale in (0.1, 1.0, 4.0)
            for jump in (False, True)
            for _ in range(20)
        ]

    assert draws(18) == draws(18)
    assert draws(18) != draws(19)


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
