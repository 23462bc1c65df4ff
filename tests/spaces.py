"""Hypothesis strategies for search spaces and condition graphs, shared by every test.

``param_specs()`` gives one crayai spec entry, ``spec_lists()`` a whole spec,
``spaces()`` a :class:`Params` (optionally with a random condition DAG), and
``condition_dags(space)`` valid conditions whose graph is acyclic. Forbidden-
value rules restrict at most one value per dependent, so a point with every
rule respected always exists.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from hyperdeme import Params
from hyperdeme._core._checks import is_number
from hyperdeme._space import (
    Choice,
    Condition,
    Parameter,
    Range,
    equals,
    greater_than,
    inside,
    less_than,
    not_equals,
    same_value,
)

__all__ = [
    "choice_specs",
    "condition_dags",
    "conditions_for",
    "flags",
    "param_specs",
    "range_specs",
    "spaces",
    "spec_lists",
    "values_in",
]

_FLAG_CHARS = "abcdefghijklmnopqrstuvwxyz_"


def flags() -> st.SearchStrategy[str]:
    """A command-line flag such as ``--lr``, sometimes with a space (``--opt lr``)."""
    word = st.text(_FLAG_CHARS, min_size=1, max_size=8)
    return st.builds(lambda a, b: f"--{a}" + (f" {b}" if b else ""), word, st.none() | word)


@st.composite
def range_specs(draw: st.DrawFn, flag: str | None = None) -> list[Any]:
    """``[flag, (default,) (low, high) (, {"log": ...})]`` for an int or real range."""
    name = flag if flag is not None else draw(flags())
    integer = draw(st.booleans())
    log = draw(st.booleans())
    low: int | float
    high: int | float
    default: st.SearchStrategy[int] | st.SearchStrategy[float]
    if integer:
        low = draw(st.integers(1, 1000) if log else st.integers(-1000, 1000))
        high = low + draw(st.integers(1, 1000))
        default = st.integers(low, high)
    elif log:
        low = draw(st.floats(1e-8, 1e3))
        high = low * draw(st.floats(1.01, 1e6))
        default = st.floats(low, high)
    else:
        low = draw(st.floats(-1e6, 1e6) | st.integers(-1000, 1000))
        high = float(low + draw(st.floats(1e-3, 1e6)))
        default = st.floats(float(low), high)
    entry: list[Any] = [name]
    if draw(st.booleans()):
        entry.append(draw(default))
    entry.append((low, high))
    if log or draw(st.booleans()):
        entry.append({"log": log})
    return entry


_SCALARS = (
    st.integers(-100, 100)
    | st.floats(-1e3, 1e3, allow_nan=False)
    | st.text(max_size=5)
    | st.booleans()
    | st.none()
)


@st.composite
def choice_specs(draw: st.DrawFn, flag: str | None = None) -> list[Any]:
    """``[flag, (default,) [values...]]`` with distinct JSON-able values."""
    name = flag if flag is not None else draw(flags())
    values = draw(
        st.lists(
            _SCALARS | st.lists(st.integers(0, 3), max_size=2),
            min_size=1,
            max_size=8,
            unique_by=_value_key,
        ).filter(_distinct)
    )
    entry: list[Any] = [name]
    if draw(st.booleans()):
        entry.append(draw(st.sampled_from(values)))
    entry.append(values)
    return entry


def _value_key(value: Any) -> str:
    if is_number(value):
        return repr(float(value) + 0.0)
    return repr((type(value).__name__, value))


def _distinct(values: list[Any]) -> bool:
    return not any(same_value(a, b) for i, a in enumerate(values) for b in values[:i])


def param_specs(flag: str | None = None) -> st.SearchStrategy[list[Any]]:
    """One spec entry, a range or a value list."""
    return range_specs(flag) | choice_specs(flag)


@st.composite
def spec_lists(draw: st.DrawFn, min_size: int = 1, max_size: int = 6) -> list[list[Any]]:
    """A whole spec with distinct flags."""
    names = draw(st.lists(flags(), min_size=min_size, max_size=max_size, unique=True))
    return [draw(param_specs(name)) for name in names]


def values_in(parameter: Parameter) -> st.SearchStrategy[Any]:
    """Any value of ``parameter``'s domain."""
    if isinstance(parameter, Choice):
        return st.sampled_from(parameter.values)
    if parameter.integer:
        return st.integers(int(parameter.low), int(parameter.high))
    return st.floats(float(parameter.low), float(parameter.high))


@st.composite
def conditions_for(
    draw: st.DrawFn, parent: Parameter, dependent: Parameter, restricted: Any = None
) -> Condition:
    """One condition valid for ``parent``; a forbidden-value rule on ``restricted`` if given."""
    numeric = isinstance(parent, Range) or parent.numeric
    kinds: list[type[Condition]] = [equals, not_equals, inside]
    if numeric:
        kinds += [greater_than, less_than]
    kind = draw(st.sampled_from(kinds))
    if kind is inside:
        value: Any = draw(st.lists(values_in(parent), min_size=1, max_size=3))
    elif kind in (greater_than, less_than) and isinstance(parent, Choice):
        value = draw(st.sampled_from(parent.values))
    else:
        value = draw(values_in(parent))
    return kind(dependent.flag, parent.flag, value, restricted)


@st.composite
def condition_dags(draw: st.DrawFn, space: Params, max_conditions: int = 8) -> list[Condition]:
    """Valid conditions on ``space`` whose graph is acyclic (edges follow a random order)."""
    if len(space) < 2:
        return []
    order = draw(st.permutations(space.flags))
    pairs = [(a, b) for i, a in enumerate(order) for b in order[i + 1 :]]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=max_conditions))
    restricted: dict[str, Any] = {}
    conditions = []
    for parent_flag, dependent_flag in chosen:
        parent, dependent = space[parent_flag], space[dependent_flag]
        value = None
        rule_ok = isinstance(dependent, Range) or len(dependent.values) >= 2
        if rule_ok and draw(st.booleans()):
            if dependent_flag not in restricted:
                candidate = draw(values_in(dependent))
                if candidate is not None:
                    restricted[dependent_flag] = candidate
            value = restricted.get(dependent_flag)
        conditions.append(draw(conditions_for(parent, dependent, value)))
    return conditions


@st.composite
def spaces(
    draw: st.DrawFn, min_size: int = 1, max_size: int = 6, conditions: bool = False
) -> Params:
    """A :class:`Params`, with a random condition DAG if ``conditions``."""
    space = Params(draw(spec_lists(min_size, max_size)))
    if conditions:
        space.add_conditions(draw(condition_dags(space)))
    return space
