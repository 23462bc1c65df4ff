"""Launchers by name.

A backend module decorates its class with ``@register("name")``. Modules are
imported only when their launcher is asked for, so ``import hyperdeme`` stays
cheap and a backend's optional pieces never load on a laptop.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from .._errors import ConfigError
from .._settings import Settings
from ._base import Launcher

__all__ = ["create", "register", "registered"]

Factory = Callable[[Settings], Launcher]
_FACTORIES: dict[str, Factory] = {}
#: name -> module that registers it (imported on first use)
_MODULES = {
    "local": "._local",
    "slurm": "._slurm",
    "pbs": "._pbs",
    "k8s": "._k8s",
    "urika": "._urika",
}


def register(name: str) -> Callable[[Factory], Factory]:
    """Class or function decorator that makes a launcher available under ``name``."""

    def decorate(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        return factory

    return decorate


def registered() -> tuple[str, ...]:
    return tuple(sorted(set(_FACTORIES) | set(_MODULES)))


def create(name: str, settings: Settings) -> Launcher:
    """A new launcher of backend ``name`` configured by ``settings``."""
    if name not in _FACTORIES and name in _MODULES:
        importlib.import_module(_MODULES[name], __package__)
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ConfigError(
            f"launcher {name!r} is not available; known: {', '.join(registered())}."
        ) from None
    return factory(settings)
