"""Conditions: activeness, forbidden-value rules, attach-time errors, the dependency graph."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import networkx as nx  # type: ignore[import-untyped,unused-ignore]
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperdeme import ConditionError, ConfigError, Params, condition
from hyperdeme.condition import (
    Condition,
    equals,
    greater_than,
    inside,
    less_than,
    not_equals,
)
from spaces import condition_dags, conditions_for, spaces

SPEC: list[Any] = [
    ["--a", 1.0, (0.0, 10.0)],
    ["--b", 3, (1, 5)],
    ["--opt", "sgd", ["sgd", "adam", "lbfgs"]],
    ["--c", [1, 2, 4]],
    ["--d", (0.5, 1.5)],
]


def _space(*conditions: Condition) -> Params:
    return Params(SPEC, conditions=conditions)


def test_public_module() -> None:
    assert condition.__all__ == [
        "Condition",
        "equals",
        "greater_than",
        "inside",
        "less_than",
        "not_equals",
    ]


@pytest.mark.parametrize(
    ("cond", "text", "rep"),
    [
        (greater_than("--b", "--a", 5.0), "--b | --a > 5.0", "greater_than('--b', '--a', 5.0)"),
        (less_than("--b", "--a", 5), "--b | --a < 5", "less_than('--b', '--a', 5)"),
        (equals("--c", "--opt", "sgd"), "--c | --opt == 'sgd'", "equals('--c', '--opt', 'sgd')"),
        (
            not_equals("--c", "--opt", "sgd"),
            "--c | --opt != 'sgd'",
            "not_equals('--c', '--opt', 'sgd')",
        ),
        (inside("--c", "--b", [1, 2]), "--c | --b in [1, 2]", "inside('--c', '--b', (1, 2))"),
        (
            equals("--opt", "--b", 3, dependent_param_value="lbfgs"),
            "--opt = 'lbfgs' | --b == 3",
            "equals('--opt', '--b', 3, dependent_param_value='lbfgs')",
        ),
        (
            Condition("--b", "--a", 2.0, operator=">"),
            "--b | --a > 2.0",
            "Condition('--b', '--a', 2.0, operator='>')",
        ),
    ],
)
def test_str_and_repr(cond: Condition, text: str, rep: str) -> None:
    assert str(cond) == text
    assert repr(cond) == rep


def test_holds() -> None:
    assert greater_than("--b", "--a", 5.0).holds(6.0)
    assert not greater_than("--b", "--a", 5.0).holds(5.0)
    assert less_than("--b", "--a", 5.0).holds(4)
    assert equals("--b", "--a", 1).holds(1)
    assert not equals("--b", "--a", 1).holds(True)
    assert not_equals("--b", "--a", "x").holds("y")
    assert inside("--b", "--a", ("x", "y")).holds("y")
    assert not inside("--b", "--a", ["x"]).holds("z")
    assert not greater_than("--b", "--a", 5.0).holds("abc")
    assert Condition("--b", "--a", [1], operator="in").holds(1)


def test_equality() -> None:
    assert inside("--b", "--a", [1, 2]) == inside("--b", "--a", (1, 2))
    assert len({equals("--b", "--a", 1), equals("--b", "--a", 1)}) == 1
    assert equals("--b", "--a", 1) != not_equals("--b", "--a", 1)


def test_unknown_operator() -> None:
    with pytest.raises(ConditionError, match=r"unknown condition operator '>='; allowed: =="):
        Condition("--b", "--a", 1, operator=">=")


@pytest.mark.parametrize(
    ("cls", "operator"),
    [(equals, "=="), (not_equals, "!="), (greater_than, ">"), (less_than, "<"), (inside, "in")],
)
def test_subclasses_take_crayais_operator_argument(cls: type[Condition], operator: str) -> None:
    # crayai's signature: (dependent, parent, parent_value, dependent_value=None, operator=...)
    value = [1, 2] if operator == "in" else 1
    assert cls("--b", "--a", value, None, operator) == cls("--b", "--a", value)
    assert cls("--b", "--a", value, operator=operator).operator == operator
    other = "!=" if operator == "==" else "=="
    expected = f"{cls.__name__} compares with '{operator}', got operator='{other}'; use Condition"
    with pytest.raises(ConditionError, match=re.escape(expected)):
        cls("--b", "--a", value, operator=other)
    with pytest.raises(ConditionError, match="unknown condition operator '<>'"):
        cls("--b", "--a", value, operator="<>")


def test_numpy_values_become_plain_python() -> None:
    gt = greater_than("--a", "--b", np.int64(3))
    rule = equals("--c", "--b", np.int64(2), dependent_param_value=np.int64(4))
    within = inside("--d", "--b", [np.int64(1), np.int64(5)])
    assert type(gt.parent_param_value) is int
    assert type(rule.dependent_param_value) is int
    assert [type(v) for v in within.parent_param_value] == [int, int]
    space = Params(
        [["--b", 3, (1, 5)], ["--a", 1.0, (0.0, 10.0)], ["--c", [1, 2, 4]], ["--d", (0.5, 1.5)]],
        conditions=[gt, rule, within],
    )
    assert space.get_dependency_graph_as_str() == (
        "--a | --b > 3;--c = 4 | --b == 2;--d | --b in [1, 5]"
    )
    json.dumps(space.serialize_graph())


# -- activeness -------------------------------------------------------------------------------


def test_dependent_active_only_when_condition_holds() -> None:
    space = _space(greater_than("--b", "--a", 5.0))
    on = {"--a": 6.0, "--b": 2, "--opt": "sgd", "--c": 1, "--d": 1.0}
    off = {**on, "--a": 4.0}
    assert space.active(on) == on
    assert space.active(off) == {"--a": 4.0, "--opt": "sgd", "--c": 1, "--d": 1.0}
    assert space.is_active("--b", on)
    assert not space.is_active("--b", off)


def test_conditions_on_one_dependent_combine_with_and() -> None:
    space = _space(greater_than("--d", "--a", 5.0), equals("--d", "--opt", "adam"))
    base = {"--a": 6.0, "--b": 2, "--opt": "adam", "--c": 1, "--d": 1.0}
    assert space.is_active("--d", base)
    assert not space.is_active("--d", {**base, "--opt": "sgd"})
    assert not space.is_active("--d", {**base, "--a": 1.0})


def test_inactive_parent_makes_dependent_inactive() -> None:
    # --c hangs off --b, which is off; --c's own condition (--b != 5) would hold
    space = _space(greater_than("--b", "--a", 5.0), not_equals("--c", "--b", 5))
    values = {"--a": 1.0, "--b": 2, "--opt": "sgd", "--c": 1, "--d": 1.0}
    assert space.active(values) == {"--a": 1.0, "--opt": "sgd", "--d": 1.0}


def test_active_keeps_input_order_and_missing_parent_is_inactive() -> None:
    space = _space(inside("--a", "--c", [2, 4]))  # dependent before parent in the spec
    values = {"--d": 1.0, "--c": 2, "--a": 3.0}
    assert list(space.active(values)) == ["--d", "--c", "--a"]
    assert space.active({"--a": 3.0, "--d": 1.0}) == {"--d": 1.0}
    assert space.get_ordered_param_when_valid() == ["--b", "--opt", "--c", "--a", "--d"]


# -- forbidden-value rules --------------------------------------------------------------------

LBFGS_RULE = equals("--opt", "--b", 3, dependent_param_value="lbfgs")


def test_value_rule_does_not_change_activeness() -> None:
    space = _space(LBFGS_RULE)
    values = {"--a": 1.0, "--b": 4, "--opt": "lbfgs", "--c": 1, "--d": 1.0}
    assert space.active(values) == values
    assert not space.allowed(values)
    assert space.allowed({**values, "--b": 3})
    assert space.allowed({**values, "--opt": "sgd"})


def test_fix_replaces_only_the_forbidden_value() -> None:
    space = _space(LBFGS_RULE)
    values = {"--a": 1.0, "--b": 4, "--opt": "lbfgs", "--c": 1, "--d": 1.0}
    fixed = space.fix(values, np.random.default_rng(0))
    assert fixed["--opt"] in ("sgd", "adam")
    assert {k: v for k, v in fixed.items() if k != "--opt"} == {
        k: v for k, v in values.items() if k != "--opt"
    }
    assert values["--opt"] == "lbfgs"  # the input is not changed


def test_fix_resamples_a_range_dependent() -> None:
    space = _space(less_than("--b", "--a", 5.0, dependent_param_value=5))
    values = {"--a": 7.0, "--b": 5, "--opt": "sgd", "--c": 1, "--d": 1.0}
    fixed = space.fix(values, np.random.default_rng(0))
    assert fixed["--b"] in (1, 2, 3, 4)
    assert space.allowed(fixed)


def test_rule_with_inactive_parent_forbids() -> None:
    space = _space(
        greater_than("--b", "--a", 5.0), equals("--c", "--b", 2, dependent_param_value=4)
    )
    values = {"--a": 1.0, "--b": 2, "--opt": "sgd", "--c": 4, "--d": 1.0}
    assert not space.allowed(values)


def test_no_allowed_value_is_an_error() -> None:
    space = Params(
        [["--a", (0, 3)], ["--b", [1, 2]]],
        conditions=[
            equals("--b", "--a", 0, dependent_param_value=1),
            equals("--b", "--a", 0, dependent_param_value=2),
        ],
    )
    with pytest.raises(ConfigError, match="--b: the conditions forbid every value"):
        space.fix({"--a": 1, "--b": 1}, np.random.default_rng(0))


# -- attach-time errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cond", "match"),
    [
        (equals("--x", "--a", 1.0), r"--x \| --a == 1.0: unknown dependent flag '--x'; known: --a"),
        (equals("--b", "--y", 1), "unknown parent flag '--y'"),
        (equals("--b", "--b", 1), "--b cannot depend on itself"),
        (greater_than("--b", "--opt", "sgd"), "'greater than' needs a numeric parent.* --opt"),
        (less_than("--b", "--opt", 1), "'less than' needs a numeric parent"),
        (greater_than("--b", "--a", "5"), "'greater than' needs a finite number.* got '5'"),
        (greater_than("--b", "--a", 11.0), r"11.0 is outside the range of --a \[0.0, 10.0\]"),
        (greater_than("--b", "--a", True), "needs a finite number"),
        (inside("--b", "--opt", "sgd"), "'inside' needs a non-empty list of values of --opt"),
        (inside("--b", "--opt", []), "'inside' needs a non-empty list"),
        (inside("--b", "--opt", ["sgd", "rmsprop"]), "'rmsprop' is not a value of the parent"),
        (
            equals("--b", "--opt", "rmsprop"),
            r"'rmsprop' is not a value of the parent --opt \(one of",
        ),
        (equals("--d", "--b", 2.5), r"2.5 is not a value of the parent --b \(integers in \[1, 5\]"),
        (equals("--d", "--a", "x"), r"'x' is not a value of the parent --a \(numbers in"),
        (equals("--d", "--c", True), "True is not a value of the parent --c"),
        (
            equals("--c", "--a", 1.0, dependent_param_value=3),
            "3 is not a value of the dependent --c",
        ),
        (
            equals("--d", "--a", 1.0, dependent_param_value=9.0),
            "9.0 is not a value of the dependent",
        ),
    ],
)
def test_attach_errors(cond: Condition, match: str) -> None:
    with pytest.raises(ConditionError, match=match):
        _space(cond)
    space = _space()
    with pytest.raises(ConditionError, match=match):
        space.add_conditions([cond])
    assert space.conditions == ()


def test_numeric_list_accepts_comparisons() -> None:
    space = _space(greater_than("--d", "--c", 1))
    assert space.is_active("--d", {"--c": 2, "--d": 1.0})


def test_cycle_message_lists_the_cycle() -> None:
    with pytest.raises(ConditionError, match="conditions form a cycle: --a -> --b -> --c -> --a"):
        _space(equals("--b", "--a", 1.0), equals("--c", "--b", 2), equals("--a", "--c", 1))


def test_add_conditions_is_atomic() -> None:
    space = _space(equals("--b", "--a", 1.0))
    before = (space.conditions, space.get_ordered_param_when_valid(), set(space.graph.edges))
    with pytest.raises(ConditionError, match="cycle: --a -> --b -> --a"):
        space.add_conditions([equals("--c", "--a", 2.0), equals("--a", "--b", 2)])
    with pytest.raises(ConditionError, match="unknown parent"):
        space.add_conditions([equals("--c", "--a", 2.0), equals("--d", "--q", 2)])
    after = (space.conditions, space.get_ordered_param_when_valid(), set(space.graph.edges))
    assert after == before


def test_add_conditions_accepts_one_condition_and_rejects_other_objects() -> None:
    space = _space()
    space.add_conditions(equals("--b", "--a", 1.0))
    assert len(space.conditions) == 1
    with pytest.raises(
        TypeError, match=r"conditions must be hyperdeme\.condition objects, got 'x'"
    ):
        space.add_conditions(["x"])  # type: ignore[list-item]


def test_conditions_none_means_no_conditions_and_a_non_list_is_named() -> None:
    assert Params(SPEC, conditions=None).conditions == ()
    space = _space()
    space.add_conditions(None)
    assert space.conditions == ()
    with pytest.raises(TypeError, match=r"conditions must be a list of hyperdeme\.condition "):
        space.add_conditions(5)  # type: ignore[arg-type]


# -- the graph --------------------------------------------------------------------------------


def test_graph_methods() -> None:
    gt = greater_than("--b", "--a", 5.0)
    eq = equals("--opt", "--b", 3, dependent_param_value="lbfgs")
    space = _space(gt, eq)
    g = space.graph
    assert list(g.nodes) == list(space.flags)
    assert g.edges["--a", "--b"]["conditions"] == [gt]
    assert not space.detect_cycle(g)
    assert not space.detect_cycle()
    g.add_edge("--opt", "--a")  # a copy: the space is unchanged
    assert space.detect_cycle(g)
    assert not space.detect_cycle()
    assert space.get_dependency_graph_as_str() == "--b | --a > 5.0;--opt = 'lbfgs' | --b == 3"
    assert space.get_ordered_param_when_valid() == ["--a", "--b", "--opt", "--c", "--d"]
    data = space.serialize_graph()
    assert json.loads(json.dumps(data)) == data
    assert data["nodes"] == list(space.flags)
    assert data["edges"][0] == {
        "parent": "--a",
        "dependent": "--b",
        "conditions": [
            {
                "dependent_param": "--b",
                "parent_param": "--a",
                "parent_param_value": 5.0,
                "dependent_param_value": None,
                "operator": ">",
            }
        ],
    }
    assert space.serialize_graph(nx.DiGraph([("x", "y")]))["edges"][0]["conditions"] == []


def test_several_conditions_share_an_edge() -> None:
    a, b = greater_than("--b", "--a", 1.0), less_than("--b", "--a", 9.0)
    assert _space(a, b).graph.edges["--a", "--b"]["conditions"] == [a, b]


# -- properties -------------------------------------------------------------------------------


@given(st.data(), spaces(min_size=2))
def test_random_dags_have_no_cycle(data: st.DataObject, space: Params) -> None:
    conditions = data.draw(condition_dags(space))
    space.add_conditions(conditions)
    assert not space.detect_cycle(space.graph)
    order = space.get_ordered_param_when_valid()
    assert sorted(order) == sorted(space.flags)
    assert all(order.index(c.parent_param) < order.index(c.dependent_param) for c in conditions)


@given(spaces(conditions=True), st.integers(0, 2**32))
def test_active_never_keeps_a_failed_parameter(space: Params, seed: int) -> None:
    values = space.sample(np.random.default_rng(seed))
    active = space.active(values)
    assert list(active) == [flag for flag in values if flag in active]
    for c in space.conditions:
        if c.dependent_param in active and not c.restricts_value:
            assert c.parent_param in active
            assert c.holds(active[c.parent_param])
    assert space.allowed(values)


@given(st.data(), spaces(min_size=2, conditions=True))
def test_back_edge_always_reported(data: st.DataObject, space: Params) -> None:
    path = data.draw(st.lists(st.sampled_from(space.flags), min_size=2, max_size=4, unique=True))
    loop = [*path, path[0]]
    new = [
        data.draw(conditions_for(space[parent], space[dependent]))
        for parent, dependent in itertools.pairwise(loop)
    ]
    before = space.conditions
    with pytest.raises(ConditionError, match="conditions form a cycle: ") as info:
        space.add_conditions(new)
    assert space.conditions == before
    found = re.search(r"cycle: (.*?); ", str(info.value))
    assert found is not None
    cycle = found.group(1).split(" -> ")
    assert cycle[0] == cycle[-1]
    edges = {(c.parent_param, c.dependent_param) for c in (*before, *new)}
    assert all(edge in edges for edge in itertools.pairwise(cycle))
    assert Params.detect_cycle(space, nx.DiGraph(list(edges)))


@given(spaces(conditions=True), st.integers(0, 2**32))
def test_fix_gives_allowed_points(space: Params, seed: int) -> None:
    rng = np.random.default_rng(seed)
    raw = {p.flag: p.sample(rng) for p in space}
    fixed = space.fix(raw, rng)
    assert space.allowed(fixed)
    assert all(space[flag].contains(value) for flag, value in fixed.items())
