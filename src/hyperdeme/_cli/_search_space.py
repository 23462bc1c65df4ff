"""An experiment file's ``[params."--flag"]`` tables and ``[[conditions]]`` as ``hyperdeme.Params``.

::

    [params."--lr"]              # one table per flag, in the order of the file
    default = 0.01               # optional
    range = [1e-5, 1.0]          # two numbers (two ints: an integer range) ...
    log = true                   # ... optionally on a log scale
    [params."--optimizer"]
    values = ["sgd", "adam"]     # ... or a list of values
    [[conditions]]
    type = "equals"              # equals | not_equals | greater_than | less_than | inside
    dependent = "--momentum"
    parent = "--optimizer"
    value = "sgd"                # a list for inside
    # dependent_value = ...      # optional: a forbidden-value rule (see docs/guide.md)

The library checks the values; its messages are reported under the key they are about.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hyperdeme
from hyperdeme import condition

from ._errors import ExperimentError

__all__ = ["CONDITION_TYPES", "build_params"]

PARAMETER_KEYS = ("default", "range", "values", "log")
CONDITION_KEYS = ("type", "dependent", "parent", "value", "dependent_value")
CONDITION_TYPES: dict[str, type[condition.Condition]] = {
    "equals": condition.equals,
    "not_equals": condition.not_equals,
    "greater_than": condition.greater_than,
    "less_than": condition.less_than,
    "inside": condition.inside,
}
_LIBRARY_ERRORS = (hyperdeme.HyperdemeError, TypeError, ValueError)


def build_params(path: Path, table: Any, conditions: Any) -> hyperdeme.Params:
    """``Params`` from the ``params`` table (file order kept) and the ``conditions`` array."""
    if not isinstance(table, dict) or not table:
        raise ExperimentError(
            path,
            "params",
            'give at least one parameter as a table, e.g. [params."--lr"] with '
            "range = [low, high] or values = [...].",
        )
    spec = [_parameter(path, flag, entry) for flag, entry in table.items()]
    params = hyperdeme.Params(spec)
    for index, item in enumerate(_condition_tables(path, conditions)):
        key = f"conditions[{index}]"
        built = _condition(path, key, item)
        try:
            params.add_conditions([built])
        except _LIBRARY_ERRORS as error:
            raise ExperimentError(path, key, str(error)) from None
    return params


def _parameter(path: Path, flag: str, entry: Any) -> list[Any]:
    """One spec entry ``[flag, default?, domain, options?]``, checked on its own."""
    key = f"params.{json.dumps(flag)}"
    if not isinstance(entry, dict):
        raise ExperimentError(
            path, key, f"must be a table with range = [low, high] or values = [...], got {entry!r}."
        )
    for name in entry:
        if name not in PARAMETER_KEYS:
            raise ExperimentError(
                path, f"{key}.{name}", f"unknown key; allowed: {', '.join(PARAMETER_KEYS)}."
            )
    domain = _domain(path, key, entry)
    item: list[Any] = [flag, entry["default"], domain] if "default" in entry else [flag, domain]
    if "log" in entry:
        if not isinstance(entry["log"], bool):
            raise ExperimentError(
                path, f"{key}.log", f"must be true or false, got {entry['log']!r}."
            )
        item.append({"log": entry["log"]})
    _check_parameter(path, flag, entry, domain)
    return item


def _check_parameter(path: Path, flag: str, entry: dict[str, Any], domain: Any) -> None:
    """Let the library check the parameter a part at a time (its domain, then with
    ``log``, then with ``default``), so an error about ``flag`` (its ``.name``) is
    reported under the key of the part that broke it, any other under the table's."""
    key = f"params.{json.dumps(flag)}"
    options = [{"log": entry["log"]}] if "log" in entry else []
    stages = [("range" if "range" in entry else "values", [flag, domain])]
    if options:
        stages.append(("log", [flag, domain, *options]))
    if "default" in entry:
        stages.append(("default", [flag, entry["default"], domain, *options]))
    for part, spec in stages:
        try:
            hyperdeme.Params([spec])
        except _LIBRARY_ERRORS as error:
            about_flag = isinstance(error, hyperdeme.ConfigError) and error.name == flag
            raise ExperimentError(
                path, f"{key}.{part}" if about_flag else key, str(error)
            ) from None


def _domain(path: Path, key: str, entry: dict[str, Any]) -> Any:
    """The parameter's domain: its ``range`` as a tuple or its ``values`` list, checked."""
    if ("range" in entry) == ("values" in entry):
        problem = "both are given" if "range" in entry else "neither is given"
        raise ExperimentError(
            path, key, f"give exactly one of range = [low, high] and values = [...]; {problem}."
        )
    if "values" in entry:
        values = entry["values"]
        if not isinstance(values, list) or not values:
            raise ExperimentError(
                path, f"{key}.values", f"must be a non-empty list of values, got {values!r}."
            )
        return values
    bounds = entry["range"]
    if not (
        isinstance(bounds, list)
        and len(bounds) == 2
        and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
    ):
        raise ExperimentError(
            path,
            f"{key}.range",
            f"must be two numbers [low, high] (two integers: an integer range), got {bounds!r}.",
        )
    return tuple(bounds)


def _condition_tables(path: Path, conditions: Any) -> list[dict[str, Any]]:
    if conditions is None:
        return []
    if not isinstance(conditions, list) or not all(isinstance(c, dict) for c in conditions):
        raise ExperimentError(
            path,
            "conditions",
            "must be an array of tables: [[conditions]] with type, dependent, parent, value.",
        )
    return conditions


def _condition(path: Path, key: str, item: dict[str, Any]) -> condition.Condition:
    for name in item:
        if name not in CONDITION_KEYS:
            raise ExperimentError(
                path, f"{key}.{name}", f"unknown key; allowed: {', '.join(CONDITION_KEYS)}."
            )
    for name in CONDITION_KEYS[:4]:
        if name not in item:
            raise ExperimentError(
                path,
                f"{key}.{name}",
                f"missing; a condition needs {', '.join(CONDITION_KEYS[:4])}.",
            )
    kind = item["type"]
    if kind not in CONDITION_TYPES:
        raise ExperimentError(
            path, f"{key}.type", f"got {kind!r}; allowed: {', '.join(CONDITION_TYPES)}."
        )
    for name in ("dependent", "parent"):
        if not isinstance(item[name], str):
            raise ExperimentError(
                path, f"{key}.{name}", f"must be a parameter's flag, got {item[name]!r}."
            )
    try:
        return CONDITION_TYPES[kind](
            item["dependent"], item["parent"], item["value"], item.get("dependent_value")
        )
    except _LIBRARY_ERRORS as error:
        raise ExperimentError(path, key, str(error)) from None
