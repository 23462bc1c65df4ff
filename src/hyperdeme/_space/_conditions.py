"""Conditions between parameters, with crayai.hpo's classes and signature.

``greater_than("--b", "--a", 5.0)`` (shown as ``--b | --a > 5.0``) makes
``--b`` active only while ``--a > 5.0``; several conditions on one dependent
combine with AND, and a dependent of an inactive parent is inactive.

Given ``dependent_param_value``, a condition becomes a forbidden-value rule
instead: ``equals("--opt", "--batch", 32, dependent_param_value="lbfgs")``
(shown as ``--opt = 'lbfgs' | --batch == 32``) lets ``--opt`` take ``'lbfgs'``
only while ``--batch == 32``; it never changes whether ``--opt`` is active.

Conditions are checked against the space when they are attached
(:meth:`hyperdeme.Params.add_conditions`), where :func:`check_condition`
raises :class:`~hyperdeme.ConditionError`.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from .._core._checks import is_number
from .._core._errors import ConditionError
from ._domains import Choice, Parameter, Range, plain, same_value

__all__ = [
    "OPERATORS",
    "Condition",
    "check_condition",
    "equals",
    "greater_than",
    "inside",
    "less_than",
    "not_equals",
]

#: operator -> what it means, for error messages
OPERATORS: dict[str, str] = {
    "==": "equals",
    "!=": "not equals",
    ">": "greater than",
    "<": "less than",
    "in": "inside",
}


class Condition:
    """``dependent_param`` is active only when ``parent_param <operator> parent_param_value``.

    ``operator`` is one of ``==``, ``!=``, ``>``, ``<``, ``in``; the subclasses
    :class:`equals`, :class:`not_equals`, :class:`greater_than`,
    :class:`less_than` and :class:`inside` fix it. With ``dependent_param_value``
    (not None) the condition only restricts that one value of the dependent;
    see the module docstring.
    """

    _operator: ClassVar[str | None] = None

    def __init__(
        self,
        dependent_param: str,
        parent_param: str,
        parent_param_value: Any,
        dependent_param_value: Any = None,
        operator: str = "==",
    ) -> None:
        if not isinstance(operator, str) or operator not in OPERATORS:
            raise ConditionError(
                f"unknown condition operator {operator!r}; allowed: {', '.join(OPERATORS)}",
                name="operator",
                value=operator,
            )
        if self._operator is not None and operator != self._operator:
            raise ConditionError(
                f"{type(self).__name__} compares with {self._operator!r}, got "
                f"operator={operator!r}; use Condition(..., operator={operator!r}) instead",
                name="operator",
                value=operator,
            )
        if operator == "in" and isinstance(parent_param_value, list | tuple):
            parent_param_value = tuple(plain(v) for v in parent_param_value)
        self.dependent_param = dependent_param
        self.parent_param = parent_param
        # numpy scalars as Python values: they end up in JSON and in messages
        self.parent_param_value = plain(parent_param_value)
        self.dependent_param_value = plain(dependent_param_value)
        self.operator = operator

    @property
    def restricts_value(self) -> bool:
        """True for a forbidden-value rule (``dependent_param_value`` given)."""
        return self.dependent_param_value is not None

    def holds(self, parent_value: Any) -> bool:
        """True if ``parent_value`` satisfies this condition."""
        target = self.parent_param_value
        if self.operator == "==":
            return same_value(parent_value, target)
        if self.operator == "!=":
            return not same_value(parent_value, target)
        if self.operator == "in":
            return isinstance(target, tuple) and any(same_value(parent_value, v) for v in target)
        if not (is_number(parent_value) and is_number(target)):
            return False
        if self.operator == ">":
            return bool(parent_value > target)
        return bool(parent_value < target)

    def _key(self) -> tuple[str, str, str, str, str]:
        return (
            str(self.dependent_param),
            str(self.parent_param),
            repr(self.parent_param_value),
            repr(self.dependent_param_value),
            self.operator,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Condition):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        dependent = str(self.dependent_param)
        if self.restricts_value:
            dependent += f" = {self.dependent_param_value!r}"
        value = self.parent_param_value
        shown = repr(list(value)) if isinstance(value, tuple) else repr(value)
        return f"{dependent} | {self.parent_param} {self.operator} {shown}"

    def __repr__(self) -> str:
        args = [repr(self.dependent_param), repr(self.parent_param), repr(self.parent_param_value)]
        if self.restricts_value:
            args.append(f"dependent_param_value={self.dependent_param_value!r}")
        if self._operator is None:
            args.append(f"operator={self.operator!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    def to_dict(self) -> dict[str, Any]:
        """The constructor's arguments, JSON-able when the values are."""
        value = self.parent_param_value
        return {
            "dependent_param": self.dependent_param,
            "parent_param": self.parent_param,
            "parent_param_value": list(value) if isinstance(value, tuple) else value,
            "dependent_param_value": self.dependent_param_value,
            "operator": self.operator,
        }


class equals(Condition):  # crayai.hpo's name
    """Active when the parent equals ``parent_param_value``.

    Like every subclass, it takes crayai's ``operator`` argument too, which
    may only repeat the class's own operator.
    """

    _operator = "=="

    def __init__(
        self,
        dependent_param: str,
        parent_param: str,
        parent_param_value: Any,
        dependent_param_value: Any = None,
        operator: str | None = None,
    ) -> None:
        super().__init__(
            dependent_param,
            parent_param,
            parent_param_value,
            dependent_param_value,
            self._operator if operator is None else operator,
        )


class not_equals(equals):  # crayai.hpo's name
    """Active when the parent differs from ``parent_param_value``."""

    _operator = "!="


class greater_than(equals):  # crayai.hpo's name
    """Active when the parent is greater than ``parent_param_value`` (numbers only)."""

    _operator = ">"


class less_than(equals):  # crayai.hpo's name
    """Active when the parent is less than ``parent_param_value`` (numbers only)."""

    _operator = "<"


class inside(equals):  # crayai.hpo's name
    """Active when the parent is one of the list ``parent_param_value``."""

    _operator = "in"


def check_condition(condition: Condition, parent: Parameter, dependent: Parameter) -> None:
    """Raise ConditionError if ``condition`` does not fit its parent's and dependent's domains."""
    where = f"condition {condition}"
    value = condition.parent_param_value
    op = condition.operator
    if op in (">", "<"):
        if isinstance(parent, Choice) and not parent.numeric:
            raise ConditionError(
                f"{where}: {OPERATORS[op]!r} needs a numeric parent, but {parent.flag} takes "
                f"the values {list(parent.values)!r}",
                name=parent.flag,
                value=value,
            )
        if not is_number(value) or not math.isfinite(value):
            raise ConditionError(
                f"{where}: {OPERATORS[op]!r} needs a finite number to compare with, got {value!r}",
                name=parent.flag,
                value=value,
            )
        if isinstance(parent, Range) and not parent.low <= value <= parent.high:
            raise ConditionError(
                f"{where}: {value!r} is outside the range of {parent.flag} "
                f"[{parent.low!r}, {parent.high!r}], so the condition never changes",
                name=parent.flag,
                value=value,
            )
    elif op == "in":
        if not isinstance(value, tuple) or not value:
            raise ConditionError(
                f"{where}: 'inside' needs a non-empty list of values of {parent.flag}, "
                f"got {value!r}",
                name=parent.flag,
                value=value,
            )
        for item in value:
            _check_in_domain(where, parent, item, "the parent")
    else:
        _check_in_domain(where, parent, value, "the parent")
    if condition.restricts_value:
        _check_in_domain(where, dependent, condition.dependent_param_value, "the dependent")


def _check_in_domain(where: str, param: Parameter, value: Any, role: str) -> None:
    if param.contains(value):
        return
    if isinstance(param, Range):
        kind = "integers" if param.integer else "numbers"
        domain = f"{kind} in [{param.low!r}, {param.high!r}]"
    else:
        domain = f"one of {list(param.values)!r}"
    raise ConditionError(
        f"{where}: {value!r} is not a value of {role} {param.flag} ({domain})",
        name=param.flag,
        value=value,
    )
