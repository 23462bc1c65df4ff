"""Launchers by name: the extension point.

``@hyperdeme.register_launcher("mine")`` on a :class:`~hyperdeme.Launcher`
subclass (or on a function of :class:`~hyperdeme.launchers.LauncherOptions`
returning a launcher) makes ``Evaluator(..., launcher="mine")`` (or
``workload_manager="mine"``) run its evaluations through it. The built-in
backends register themselves the same way; their modules are imported only
when their launcher is asked for, so ``import hyperdeme`` stays cheap and a
backend's optional pieces never load on a laptop.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar

from .._core._errors import ConfigError, ConfigTypeError
from ._base import Launcher
from ._options import LauncherOptions

__all__ = ["Factory", "check", "create", "register", "registered"]

Factory = Callable[[LauncherOptions], Launcher]
F = TypeVar("F", bound=Factory)

_FACTORIES: dict[str, Factory] = {}
#: name -> module that registers it (imported on first use)
_BUILT_IN = {
    "local": "._local",
    "slurm": "._slurm",
    "pbs": "._pbs",
    "k8s": "._k8s",
    "urika": "._urika",
}
#: names with a meaning of their own in ``launcher=``/``workload_manager=``
RESERVED = ("auto", "wlm")


def register(name: str) -> Callable[[F], F]:
    """Decorator: make the launcher class (or factory function) available as ``name``.

    Registering a name again replaces the earlier factory.
    """
    if not isinstance(name, str) or not name.isidentifier() or name in RESERVED:
        error = ConfigError if isinstance(name, str) else ConfigTypeError
        raise error(
            f"a launcher name must be an identifier other than {' and '.join(RESERVED)}, "
            f"got {name!r}.",
            name="name",
            value=name,
        )

    def decorate(factory: F) -> F:
        if not callable(factory):
            raise ConfigTypeError(
                f"register_launcher({name!r}) needs a class or function, got {factory!r}.",
                name="factory",
                value=factory,
            )
        _FACTORIES[name] = factory
        return factory

    return decorate


def registered() -> tuple[str, ...]:
    """Every launcher name available, built-in or registered."""
    return tuple(sorted(set(_FACTORIES) | set(_BUILT_IN)))


def _factory(name: str) -> Factory:
    if name not in _FACTORIES and name in _BUILT_IN:
        importlib.import_module(_BUILT_IN[name], __package__)
    try:
        return _FACTORIES[name]
    except KeyError:
        raise ConfigError(
            f"launcher {name!r} is not available; known: {', '.join(registered())} "
            "(register your own with hyperdeme.register_launcher).",
            name="launcher",
            value=name,
        ) from None


def check(name: str, options: LauncherOptions) -> None:
    """Raise ConfigError if ``name`` is unknown or its backend refuses ``options``."""
    factory = _factory(name)
    if isinstance(factory, type) and issubclass(factory, Launcher):
        factory.check_options(options)


def create(name: str, options: LauncherOptions) -> Launcher:
    """A new launcher of backend ``name`` built from ``options``."""
    check(name, options)
    launcher = _factory(name)(options)
    if not isinstance(launcher, Launcher):
        raise ConfigError(
            f"the factory registered as launcher {name!r} returned {launcher!r}, "
            "not a hyperdeme.Launcher.",
            name="launcher",
            value=name,
        )
    return launcher
