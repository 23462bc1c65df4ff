"""What a strategy plug-in reads and writes is public: types it can name and check."""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

import numpy as np
import pytest

import hyperdeme
from hyperdeme import condition, strategies

#: what a strategy plug-in touches: the space, its parameters, what it proposes and observes
SURFACE = (
    hyperdeme.Params,
    hyperdeme.Range,
    hyperdeme.Choice,
    hyperdeme.GridAxis,
    hyperdeme.Strategy,
    hyperdeme.Candidate,
    hyperdeme.CheckpointPlan,
    hyperdeme.Trial,
    hyperdeme.Optimizer,
    strategies.StrategyFactory,
)
PUBLIC_MODULES = {
    "hyperdeme": hyperdeme,
    "hyperdeme.condition": condition,
    "hyperdeme.strategies": strategies,
}
#: names an annotation imported only for type checking may use: the public ones
PUBLIC_NAMES = {
    "np": np,
    **{name: getattr(hyperdeme, name) for name in hyperdeme.__all__},
    **{name: getattr(condition, name) for name in condition.__all__},
    **{name: getattr(strategies, name) for name in strategies.__all__},
}


def _hints(owner: type, member: Any) -> dict[str, Any]:
    """The resolved annotations of a function, property or dataclass, in its defining module.

    A name imported only for type checking resolves if it is public; a private one
    is a NameError, and fails the test."""
    function = member.fget if isinstance(member, property) else member
    if inspect.isfunction(function):
        return typing.get_type_hints(function, localns=PUBLIC_NAMES)
    functions = [value for value in vars(owner).values() if inspect.isfunction(value)]
    namespace = functions[0].__globals__ if functions else {}
    return typing.get_type_hints(owner, globalns=namespace, localns=PUBLIC_NAMES)


def _classes(hint: Any) -> set[type]:
    found: set[type] = set()
    if isinstance(hint, type) and not isinstance(hint, types.GenericAlias):
        found.add(hint)
    for argument in typing.get_args(hint):
        found |= _classes(argument)
    origin = typing.get_origin(hint)
    if isinstance(origin, type):
        found.add(origin)
    return found


def _public_members(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
    }


@pytest.mark.parametrize("cls", SURFACE, ids=lambda cls: cls.__name__)
def test_public_attributes_and_methods_mention_only_public_types(cls: type) -> None:
    hints = [_hints(cls, cls)] + [_hints(cls, member) for member in _public_members(cls).values()]
    mentioned = set().union(*(_classes(hint) for found in hints for hint in found.values()))
    private = sorted(
        f"{t.__module__}.{t.__qualname__}"
        for t in mentioned
        if t.__module__.startswith("hyperdeme")
        and getattr(PUBLIC_MODULES.get(t.__module__), t.__name__, None) is not t
    )
    assert not private, f"{cls.__name__} mentions private types: {private}"


def test_the_space_hands_out_public_types() -> None:
    space = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)], ["--opt", ["sgd", "adam"]]])
    rng = np.random.default_rng(1)
    x, opt = space.parameters
    assert isinstance(x, hyperdeme.Range)
    assert isinstance(opt, hyperdeme.Choice)
    assert all(isinstance(p, typing.get_args(hyperdeme.Parameter)) for p in space)
    assert isinstance(space["--x"].axis(3), hyperdeme.GridAxis)
    assert list(space["--x"].axis(3)) == [0.0, 0.5, 1.0]
    assert space["--x"].contains(space["--x"].sample(rng))
    assert type(x).__module__ == type(opt).__module__ == "hyperdeme"
    assert repr(x).startswith("Range(flag='--x'")
