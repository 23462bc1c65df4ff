"""Finite spaces' sizes and what "the same point" means (``_space._points``)."""

from __future__ import annotations

import itertools

from hyperdeme import Params
from hyperdeme._space import finite_points, finite_size, point_key
from hyperdeme.condition import equals, not_equals


def brute_force(space: Params) -> int:
    """Distinct allowed active points, by enumerating the product (the test's own count)."""
    domains = [
        list(p.values) if hasattr(p, "values") else list(range(p.low, p.high + 1))
        for p in space.parameters
    ]
    points = set()
    for values in itertools.product(*domains):
        point = dict(zip(space.flags, values, strict=True))
        if space.allowed(point):
            points.add(tuple(sorted((f, repr(v)) for f, v in space.active(point).items())))
    return len(points)


def test_a_space_without_conditions_is_the_product_of_its_domains() -> None:
    assert finite_size(Params([["--a", [1, 2, 3]], ["--b", (0, 3)]])) == 12
    assert finite_size(Params([["--a", ["x"]], ["--b", (-2, 2)], ["--c", [True, False]]])) == 10


def test_a_huge_finite_space_is_counted_without_enumerating_it() -> None:
    space = Params([[f"--p{i}", (0, 999_999)] for i in range(10)])
    assert finite_size(space) == 10**60  # enumerating it would never end


def test_a_real_range_makes_a_space_infinite() -> None:
    assert finite_size(Params([["--a", [1, 2]], ["--x", (0.0, 1.0)]])) is None
    assert list(finite_points(Params([["--a", [1, 2]], ["--x", (0.0, 1.0)]]))) == []


def test_conditions_count_the_distinct_active_allowed_points() -> None:
    space = Params(
        [["--a", [1, 2, 3]], ["--b", (0, 3)], ["--c", [True, False]], ["--d", ["u", "v"]]],
        conditions=[
            equals("--c", "--a", 1),  # --c only with --a 1
            not_equals("--d", "--b", 0, dependent_param_value="v"),  # no v with --b 0
        ],
    )
    assert finite_size(space) == brute_force(space)
    assert finite_size(space) == 2 * 4 * 2 - 2 + 2 * 4 * 2 - 2  # (a=1) 14 + (a=2,3) 7 each
    keys = {point_key(space, p) for p in finite_points(space)}
    assert len(keys) == finite_size(space)


def test_a_large_conditional_space_has_an_unknown_size() -> None:
    space = Params([["--a", (0, 999)], ["--b", (0, 999)]], conditions=[equals("--b", "--a", 1)])
    assert finite_size(space) is None


def test_the_key_keeps_active_canonical_values() -> None:
    space = Params([["--n", (1, 5)], ["--x", (0.0, 1.0)], ["--v", [1, "1", True]]])
    assert point_key(space, {"--n": 2, "--x": 0.5, "--v": 1}) == point_key(
        space, {"--n": 2.0, "--x": 0.5, "--v": 1}
    )
    assert point_key(space, {"--n": 2, "--x": 0.5, "--v": 1}) != point_key(
        space, {"--n": 2, "--x": 0.5, "--v": True}
    )
    assert point_key(space, {"--n": 2, "--x": 0.5, "--v": 1}) != point_key(
        space, {"--n": 2, "--x": 0.5, "--v": "1"}
    )
    assert point_key(space, {"--x": 0.5, "--n": 2, "--v": 1}) == point_key(
        space, {"--n": 2, "--x": 0.5, "--v": 1}
    )
