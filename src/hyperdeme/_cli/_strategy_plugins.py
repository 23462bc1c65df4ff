"""``[optimizer] type = "mine"``: a strategy installed as a plug-in, run from an experiment file.

A package declares its strategy under the entry-point group
``hyperdeme.strategies`` (see :mod:`hyperdeme._core._plugins`); the entry point
names a Strategy subclass or a factory called as ``(space, *, seed, **settings)``.
The other keys of ``[optimizer]`` are the optimizer's own (those of
``hyperdeme.Optimizer``: seed, verbose, log_fn, backend) and, all the rest, the
strategy's settings. The strategy is built once when the file is loaded, so a
bad setting is reported before anything runs. A built-in type wins over a
plug-in of the same name.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import hyperdeme

from .._core._plugins import STRATEGIES, load_plugin, plugins
from ._errors import ExperimentError, culprit

__all__ = ["OPTIMIZER_KEYWORDS", "plugin_optimizer", "unknown_type"]

#: the [optimizer] keys that are hyperdeme.Optimizer's, not the strategy's
OPTIMIZER_KEYWORDS = tuple(
    name
    for name in inspect.signature(hyperdeme.Optimizer.__init__).parameters
    if name not in ("self", "evaluator", "strategy", "name")
)
_LIBRARY_ERRORS = (hyperdeme.HyperdemeError, TypeError, ValueError)


def unknown_type(path: Path, kind: object, built_in: Iterable[str]) -> ExperimentError:
    """The error for an ``[optimizer] type`` that is neither built in nor installed."""
    problem = "missing" if kind is None else f"got {kind!r}"
    installed = ", ".join(plugins(STRATEGIES)) or "none"
    return ExperimentError(
        path,
        "optimizer.type",
        f"{problem}; allowed: {', '.join(built_in)}, or a strategy plug-in (entry-point "
        f"group {STRATEGIES!r}; installed: {installed}).",
    )


def plugin_optimizer(
    path: Path,
    arguments: Mapping[str, Any],
    evaluator: hyperdeme.Evaluator,
    name: str,
    params: hyperdeme.Params,
) -> hyperdeme.Optimizer:
    """A ``hyperdeme.Optimizer`` running the plug-in ``arguments["type"]``, checked against
    ``params`` by building its strategy once."""
    kind = arguments["type"]
    factory = _load(path, kind)
    options = {key: value for key, value in arguments.items() if key in OPTIMIZER_KEYWORDS}
    settings = {
        key: value
        for key, value in arguments.items()
        if key != "type" and key not in OPTIMIZER_KEYWORDS
    }
    _check_settings(path, kind, factory, settings)
    try:
        optimizer = hyperdeme.Optimizer(
            evaluator, strategy=functools.partial(factory, **settings), name=name, **options
        )
        optimizer.make_strategy(params)
    except _LIBRARY_ERRORS as error:
        raise ExperimentError(path, culprit("optimizer", error), str(error)) from None
    return optimizer


def _load(path: Path, kind: str) -> Any:
    try:
        factory = load_plugin(STRATEGIES, kind)
    except hyperdeme.ConfigError as error:
        raise ExperimentError(path, "optimizer.type", str(error)) from None
    if not callable(factory):
        raise ExperimentError(
            path,
            "optimizer.type",
            f"the strategy plug-in {kind!r} ({plugins(STRATEGIES)[kind].value}) names "
            f"{factory!r}, not a Strategy subclass nor a factory of strategies.",
        )
    return factory


def _check_settings(path: Path, kind: str, factory: Any, settings: Mapping[str, Any]) -> None:
    """Refuse a setting the factory does not take, with a "did you mean"."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # no signature to read: the build will tell
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    allowed = [
        name
        for name, p in list(parameters.items())[1:]  # after the space
        if name != "seed" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    for key in settings:
        if key not in allowed:
            close = difflib.get_close_matches(key, [*allowed, *OPTIMIZER_KEYWORDS], n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ExperimentError(
                path,
                f"optimizer.{key}",
                f"unknown setting of the strategy plug-in {kind!r}; {hint}allowed: "
                f"{', '.join([*allowed, *OPTIMIZER_KEYWORDS])}.",
            )
