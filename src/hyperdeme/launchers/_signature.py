"""How an evaluation function is called, read once from its signature.

The rule (``inspect.signature``; a decorator made with :func:`functools.wraps`
shows the function it wraps):

* the first positional parameter gets the parameters dict;
* a parameter named ``checkpoint`` (positional or keyword-only) gets the
  checkpoint directory by keyword, as before trial handles existed;
* the second positional parameter (``checkpoint`` aside) gets the trial handle
  when it has no default, or when it is named ``trial``; one with another
  name and a default keeps its default (``def f(params, scale=2.0)`` is
  called ``f(params)``, as always); a keyword-only parameter named ``trial``
  gets the handle by keyword;
* refused, before anything runs: a function without a parameter for the
  dict, one whose ``*args`` would leave it unclear whether it wants the handle
  (``def f(*args)``, ``def f(params, *args)``: name the parameters, or wrap
  with :func:`functools.wraps`), and one with a required parameter nothing
  fills.

A callable whose signature cannot be read (some builtins) is called ``f(params)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .._core._errors import ConfigError

__all__ = ["CallStyle", "call_style"]

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True, slots=True)
class CallStyle:
    """How to call one function: a coroutine function or not, where its trial handle
    goes (``"none"``, second ``"positional"`` argument, ``"keyword"`` ``trial=``), and
    whether it takes ``checkpoint=``."""

    coroutine: bool = False
    handle: Literal["none", "positional", "keyword"] = "none"
    checkpoint: bool = False

    @property
    def takes_handle(self) -> bool:
        return self.handle != "none"


def call_style(function: Callable[..., Any]) -> CallStyle:
    """The :class:`CallStyle` of ``function``; ConfigError when the rule (see the module
    docstring) cannot call it."""
    coroutine = inspect.iscoroutinefunction(function)
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature
        return CallStyle(coroutine=coroutine)
    name = getattr(function, "__qualname__", None) or repr(function)
    checkpoint = any(
        p.name == "checkpoint" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        for p in parameters
    )
    positional = [p for p in parameters if p.kind in _POSITIONAL]
    if checkpoint:
        positional = [p for p in positional if p.name != "checkpoint"]
    _check_dict_and_star(name, parameters, positional)
    handle, filled = _handle(parameters, positional)
    if checkpoint:
        filled.add("checkpoint")
    unfilled = [p.name for p in parameters if p.name not in filled and _required(p)]
    if unfilled:
        raise _refused(name, f"requires {', '.join(map(repr, unfilled))}, which nothing fills")
    return CallStyle(coroutine=coroutine, handle=handle, checkpoint=checkpoint)


def _check_dict_and_star(
    name: str, parameters: list[inspect.Parameter], positional: list[inspect.Parameter]
) -> None:
    """Refuse a function with no parameter for the dict, or whose ``*args`` hides whether
    it wants the handle."""
    starred = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    if not positional and not starred:
        raise _refused(name, "takes no positional parameter for the parameters dict")
    if len(positional) < 2 and starred:
        raise _refused(
            name,
            "takes *args, so it cannot be told whether it wants the trial handle as its "
            "second argument; name its parameters (def f(params) or def f(params, trial)), "
            "or make its decorator with functools.wraps",
        )


def _handle(
    parameters: list[inspect.Parameter], positional: list[inspect.Parameter]
) -> tuple[Literal["none", "positional", "keyword"], set[str]]:
    """Where the handle goes, and the names of the parameters filled so far."""
    filled = {positional[0].name}
    if len(positional) > 1:
        second = positional[1]
        if second.default is second.empty or second.name == "trial":
            return "positional", filled | {second.name}
    if any(p.kind is p.KEYWORD_ONLY and p.name == "trial" for p in parameters):
        return "keyword", filled | {"trial"}
    return "none", filled


def _required(parameter: inspect.Parameter) -> bool:
    """A parameter a call must fill: no default, and not ``*args``/``**kwargs``."""
    return parameter.default is parameter.empty and parameter.kind not in (
        parameter.VAR_POSITIONAL,
        parameter.VAR_KEYWORD,
    )


def _refused(name: str, why: str) -> ConfigError:
    return ConfigError(
        f"the evaluation function {name} {why}. An evaluation function is called "
        "f(params), f(params, trial) (a trial handle: trial.report(fom, step=k), "
        "trial.checkpoint_dir) or with a checkpoint= keyword; see the guide's "
        '"Step reports from Python objectives".',
        name="cmd",
        value=name,
    )
