"""Launchers by name: the extension point.

A name resolves, first match wins, to a launcher registered in this process
(``@hyperdeme.register_launcher("mine")`` on a :class:`~hyperdeme.Launcher`
subclass, or on a function of :class:`~hyperdeme.launchers.LauncherOptions`
returning a launcher), a built-in backend (``local``, ``slurm``, ``pbs``,
``k8s``, ``urika``), or an installed plug-in: an entry point of the group
``hyperdeme.launchers`` naming a ``Launcher`` subclass (see
:mod:`hyperdeme._core._plugins`). Then ``Evaluator(..., launcher="mine")``
(or ``workload_manager="mine"``, or ``launcher = "mine"`` in an experiment
file) runs its evaluations through it. A backend's or a plug-in's module is
imported only when its launcher is asked for, so ``import hyperdeme`` stays
cheap and a backend's optional pieces never load on a laptop.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar

from .._core._errors import ConfigError, ConfigTypeError
from .._core._plugins import LAUNCHERS, load_plugin, plugins
from ._base import Launcher
from ._detect import DETECT
from ._options import LauncherOptions

__all__ = ["BUILT_IN", "Factory", "check", "create", "is_known", "register", "registered"]

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
#: the launchers hyperdeme ships
BUILT_IN = tuple(_BUILT_IN)


def register(name: str) -> Callable[[F], F]:
    """Decorator: make the launcher class (or factory function) available as ``name``.

    A class takes ``name`` as its :attr:`~hyperdeme.Launcher.name`. Registering
    a name again replaces the earlier factory.
    """
    if not isinstance(name, str) or not name.isidentifier() or name in DETECT:
        error = ConfigError if isinstance(name, str) else ConfigTypeError
        raise error(
            f"a launcher name must be an identifier other than {' and '.join(DETECT)}, "
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
        if isinstance(factory, type) and issubclass(factory, Launcher):
            factory.name = name
        _FACTORIES[name] = factory
        return factory

    return decorate


def registered() -> tuple[str, ...]:
    """Every launcher name available: built-in, registered or installed as a plug-in
    (listing plug-ins imports none of them)."""
    return tuple(sorted(set(_FACTORIES) | set(_BUILT_IN) | set(plugins(LAUNCHERS))))


def is_known(name: str) -> bool:
    """Is ``name`` a launcher: asks the installed plug-ins (importing
    ``importlib.metadata``) only for a name that is not built in or registered."""
    return name in _FACTORIES or name in _BUILT_IN or name in plugins(LAUNCHERS)


def _factory(name: str) -> Factory:
    if name not in _FACTORIES and name in _BUILT_IN:
        importlib.import_module(_BUILT_IN[name], __package__)
    elif name not in _FACTORIES and name in plugins(LAUNCHERS):
        _load_plugin(name)
    try:
        return _FACTORIES[name]
    except KeyError:
        raise ConfigError(
            f"launcher {name!r} is not available; known: {', '.join(registered())} "
            "(register your own with hyperdeme.register_launcher, or install a package "
            "declaring a hyperdeme.launchers entry point).",
            name="launcher",
            value=name,
        ) from None


def _load_plugin(name: str) -> None:
    """Import the entry point ``name`` and register the Launcher subclass it names."""
    target = load_plugin(LAUNCHERS, name)
    if not (isinstance(target, type) and issubclass(target, Launcher)):
        point = plugins(LAUNCHERS)[name]
        raise ConfigError(
            f"the {LAUNCHERS} plug-in {name!r} ({point.value}) names {target!r}, which is "
            "not a hyperdeme.Launcher subclass."
        )
    register(name)(target)


def check(name: str, options: LauncherOptions) -> None:
    """Raise ConfigError if ``name`` is unknown or its backend refuses ``options``.

    A launcher class checks the keys of ``options.extra`` (its
    :attr:`~hyperdeme.Launcher.launcher_options`), then the rest
    (:meth:`~hyperdeme.Launcher.check_options`); a factory function's launcher
    checks them when :func:`create` builds it.
    """
    factory = _factory(name)
    if isinstance(factory, type) and issubclass(factory, Launcher):
        factory.read_extra(options)
        factory.check_options(options)


def create(name: str, options: LauncherOptions) -> Launcher:
    """A new launcher of backend ``name`` built from ``options``."""
    check(name, options)
    factory = _factory(name)
    launcher = factory(options)
    if not isinstance(launcher, Launcher):
        raise ConfigError(
            f"the factory registered as launcher {name!r} returned {launcher!r}, "
            "not a hyperdeme.Launcher.",
            name="launcher",
            value=name,
        )
    if not isinstance(factory, type):
        type(launcher).read_extra(options)
    return launcher
