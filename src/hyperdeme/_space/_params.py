"""The search space: :class:`Params`, crayai.hpo's parameter list plus conditions."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._core._errors import ConditionError, ConfigError, ConfigTypeError
from ._conditions import Condition, check_condition
from ._domains import Choice, Parameter, Range, parse_parameter, same_value
from ._graph import Graph, check_acyclic, find_cycle, serialize, to_networkx

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Params"]

# draws of a Range dependent before giving up on finding a value no rule forbids
_MAX_REDRAWS = 1000
# integer ranges up to this many values are searched exhaustively after that
_MAX_ENUMERATED = 100_000


class Params:
    """The hyperparameters to optimize, in crayai.hpo's form::

        Params([["--learning_rate", 1e-4, (1e-6, 1)],          # default, bounds
                ["--dropout_rate", (0.1, 1)],                  # bounds, no default
                ["--optimizer", "sgd", ["sgd", "gd", "adam"]], # default, value list
                ["--layers", [1, 2, 3, 4]]])                   # value list, no default

    A tuple ``(low, high)`` is a range: integer when both bounds are ints (its
    values stay ints), real otherwise. A list is an ordered list of values of
    any JSON-able type. Flags are kept verbatim (``"--optimizer lr"`` too).

    An entry may end with an options dict. The only option is ``log``: draw
    and grid the range on a log scale (bounds must be > 0)::

        ["--lr", 1e-3, (1e-6, 1.0), {"log": True}]
        ["--lr", (1e-6, 1.0), {"log": True}]

    ``conditions`` (see :mod:`hyperdeme.condition`) switch parameters on and
    off, or forbid some values of a parameter; they may also be attached later
    with :meth:`add_conditions`. A value dict maps every flag to its value;
    :meth:`active` drops the parameters whose conditions fail.

    Bad specs raise :class:`~hyperdeme.ConfigError` (bad values) or
    :class:`~hyperdeme.ConfigTypeError` (wrong types, also a ``TypeError``);
    bad conditions raise :class:`~hyperdeme.ConditionError`.
    """

    def __init__(self, spec: list[Any], conditions: Iterable[Condition] | None = ()) -> None:
        if not isinstance(spec, list | tuple):
            raise ConfigTypeError(
                f"the parameter spec must be a list of [flag, default, domain] entries, "
                f"got {spec!r}",
                name="spec",
                value=spec,
            )
        if not spec:
            raise ConfigError(
                "the parameter spec is empty; give at least one parameter", name="spec", value=spec
            )
        parameters: dict[str, Parameter] = {}
        for position, entry in enumerate(spec):
            parameter = parse_parameter(entry, position)
            if parameter.flag in parameters:
                raise ConfigError(
                    f"duplicate flag {parameter.flag!r} (parameter {position})",
                    name=parameter.flag,
                    value=parameter.flag,
                )
            parameters[parameter.flag] = parameter
        self._by_flag = parameters
        self.parameters: tuple[Parameter, ...] = tuple(parameters.values())
        self.flags: tuple[str, ...] = tuple(parameters)
        self._set_conditions(())
        self.add_conditions(conditions)

    # -- the parameters ----------------------------------------------------------------------

    def __getitem__(self, flag: str) -> Parameter:
        try:
            return self._by_flag[flag]
        except KeyError:
            raise KeyError(f"unknown parameter {flag!r}; known: {', '.join(self.flags)}") from None

    def __contains__(self, flag: object) -> bool:
        return flag in self._by_flag

    def __len__(self) -> int:
        return len(self.parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __repr__(self) -> str:
        return f"Params({list(self.parameters)!r}, conditions={list(self.conditions)!r})"

    def to_json(self) -> dict[str, Any]:
        """The space as JSON-able data: every parameter's domain, default and options, and
        the conditions (what an experiment's fingerprint records)."""
        parameters = []
        for parameter in self.parameters:
            described = dataclasses.asdict(parameter)
            if isinstance(parameter, Choice):
                described["values"] = list(parameter.values)
            parameters.append(described)
        return {"parameters": parameters, "conditions": [c.to_dict() for c in self._conditions]}

    @property
    def has_all_defaults(self) -> bool:
        """True if every parameter has a default."""
        return all(p.has_default for p in self.parameters)

    # -- points ------------------------------------------------------------------------------

    def defaults(self, rng: np.random.Generator | None = None) -> dict[str, Any]:
        """Every flag's default; a random draw from ``rng`` where there is none.

        Without ``rng``, missing defaults are drawn from a generator seeded
        with 0, so the result is always reproducible. Drawn values respect the
        forbidden-value rules; given defaults are kept as they are.
        """
        if rng is None:
            rng = _generator(0)
        values = {p.flag: p.default if p.has_default else p.sample(rng) for p in self.parameters}
        drawn = {p.flag for p in self.parameters if not p.has_default}
        return self._fix(values, rng, drawn)

    def get_params(self, seed: int | None = None) -> dict[str, Any]:
        """crayai.hpo's defaults: flag -> default, a draw seeded with ``seed`` where none."""
        return self.defaults(None if seed is None else _generator(seed))

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A random point with every flag, no forbidden-value rule broken."""
        values = {p.flag: p.sample(rng) for p in self.parameters}
        return self._fix(values, rng, self.flags)

    def active(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` without its inactive parameters, in the input's key order.

        A parameter missing from ``values`` counts as inactive.
        """
        active = self._active_flags(values)
        return {flag: value for flag, value in values.items() if flag in active}

    def is_active(self, flag: str, values: Mapping[str, Any]) -> bool:
        """True if ``flag`` is present in ``values`` and its conditions hold."""
        self[flag]
        return flag in self._active_flags(values)

    def allowed(self, values: Mapping[str, Any]) -> bool:
        """True if no active value breaks a forbidden-value rule."""
        active = self._active_flags(values)
        return not any(
            flag in active and not self._value_allowed(flag, values[flag], values, active)
            for flag in self._rules
        )

    def fix(self, values: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        """A copy of ``values`` where each active value a rule forbids is redrawn.

        A value list dependent gets a random allowed value; a range dependent
        is resampled until allowed. Raises ConfigError if no value is allowed.
        """
        self._check_flags(values)
        return self._fix(values, rng, self.flags)

    # -- conditions ----------------------------------------------------------------------------

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """Every attached condition, in the order attached."""
        return self._conditions

    def add_conditions(self, conditions: Iterable[Condition] | Condition | None) -> None:
        """Attach conditions; all or none (on ConditionError nothing changes). None: none."""
        if conditions is None:
            return
        if isinstance(conditions, Condition):
            new = [conditions]
        elif isinstance(conditions, Iterable) and not isinstance(conditions, str | bytes):
            new = list(conditions)
        else:
            raise ConfigTypeError(
                f"conditions must be a list of hyperdeme.condition objects, got {conditions!r}",
                name="conditions",
                value=conditions,
            )
        for condition in new:
            if not isinstance(condition, Condition):
                raise ConfigTypeError(
                    f"conditions must be hyperdeme.condition objects, got {condition!r}",
                    name="conditions",
                    value=condition,
                )
            self._check_condition(condition)
        if new:
            self._set_conditions((*self._conditions, *new))

    @property
    def graph(self) -> Any:
        """A copy of the ``networkx.DiGraph`` parent -> dependent of every flag.

        Each edge's ``"conditions"`` attribute lists its conditions.
        """
        return to_networkx(self._graph)

    def detect_cycle(self, g: Any = None) -> bool:
        """True if the graph ``g`` (default: this space's graph) has a cycle."""
        return find_cycle(self._graph if g is None else g) is not None

    def get_dependency_graph_as_str(self) -> str:
        """Every condition as text (``--b | --a > 5.0``), joined by ``;``."""
        return ";".join(str(c) for c in self._conditions)

    def get_ordered_param_when_valid(self) -> list[str]:
        """Every flag, parents before dependents (spec order otherwise)."""
        return list(self._order)

    def serialize_graph(self, g: Any = None) -> dict[str, Any]:
        """The graph ``g`` (default: this space's) as a JSON-able dict::

        {"nodes": ["--a", "--b"],
         "edges": [{"parent": "--a", "dependent": "--b",
                    "conditions": [{"dependent_param": "--b", "parent_param": "--a",
                                    "parent_param_value": 5.0,
                                    "dependent_param_value": None, "operator": ">"}]}]}
        """
        return serialize(self._graph if g is None else g)

    # -- internals -----------------------------------------------------------------------------

    def _check_condition(self, condition: Condition) -> None:
        for role, flag in (
            ("dependent", condition.dependent_param),
            ("parent", condition.parent_param),
        ):
            if not isinstance(flag, str) or flag not in self._by_flag:
                raise ConditionError(
                    f"condition {condition}: unknown {role} flag {flag!r}; "
                    f"known: {', '.join(self.flags)}",
                    value=flag,
                )
        if condition.dependent_param == condition.parent_param:
            raise ConditionError(
                f"condition {condition}: {condition.dependent_param} cannot depend on itself",
                name=condition.dependent_param,
                value=condition,
            )
        check_condition(
            condition,
            self._by_flag[condition.parent_param],
            self._by_flag[condition.dependent_param],
        )

    def _set_conditions(self, conditions: tuple[Condition, ...]) -> None:
        graph = Graph.build(self.flags, conditions)
        check_acyclic(graph)
        self._graph = graph
        self._conditions = conditions
        self._order = graph.topological_order()
        self._activators: dict[str, list[Condition]] = {}
        self._rules: dict[str, list[Condition]] = {}
        for c in conditions:
            kind = self._rules if c.restricts_value else self._activators
            kind.setdefault(c.dependent_param, []).append(c)

    def _check_flags(self, values: Mapping[str, Any]) -> None:
        unknown = [flag for flag in values if flag not in self._by_flag]
        if unknown:
            raise ConfigError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(self.flags)}",
                value=unknown,
            )

    def _is_active(self, flag: str, values: Mapping[str, Any], active: Collection[str]) -> bool:
        return flag in values and all(
            c.parent_param in active and c.holds(values[c.parent_param])
            for c in self._activators.get(flag, ())
        )

    def _active_flags(self, values: Mapping[str, Any]) -> set[str]:
        self._check_flags(values)
        active: set[str] = set()
        for flag in self._order:
            if self._is_active(flag, values, active):
                active.add(flag)
        return active

    def _value_allowed(
        self, flag: str, value: Any, values: Mapping[str, Any], active: Collection[str]
    ) -> bool:
        return all(
            c.parent_param in active and c.holds(values[c.parent_param])
            for c in self._rules.get(flag, ())
            if same_value(value, c.dependent_param_value)
        )

    def _fix(
        self, values: Mapping[str, Any], rng: np.random.Generator, mutable: Collection[str]
    ) -> dict[str, Any]:
        fixed = dict(values)
        if not self._activators and not self._rules:  # no conditions: nothing to fix
            return fixed
        active: set[str] = set()
        for flag in self._order:
            if not self._is_active(flag, fixed, active):
                continue
            active.add(flag)
            if flag in mutable and not self._value_allowed(flag, fixed[flag], fixed, active):
                fixed[flag] = self._allowed_draw(flag, fixed, active, rng)
        return fixed

    def _allowed_draw(
        self,
        flag: str,
        values: Mapping[str, Any],
        active: Collection[str],
        rng: np.random.Generator,
    ) -> Any:
        parameter = self._by_flag[flag]
        if isinstance(parameter, Range):
            for _ in range(_MAX_REDRAWS):
                value = parameter.sample(rng)
                if self._value_allowed(flag, value, values, active):
                    return value
            if not parameter.integer or parameter.high - parameter.low >= _MAX_ENUMERATED:
                choices: list[Any] = []
            else:
                choices = list(range(int(parameter.low), int(parameter.high) + 1))
        else:
            choices = list(parameter.values)
        choices = [v for v in choices if self._value_allowed(flag, v, values, active)]
        if not choices:
            raise ConfigError(
                f"{flag}: the conditions forbid every value given {dict(values)!r}; "
                "loosen the forbidden-value conditions on it",
                name=flag,
                value=dict(values),
            )
        return choices[int(rng.integers(len(choices)))]


def _generator(seed: int) -> np.random.Generator:
    import numpy as np  # where first needed: numpy is a third of an eager import's time

    return np.random.default_rng(seed)
