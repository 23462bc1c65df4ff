"""A backend's own ``launcher_options``: the keys it accepts, as one dataclass.

The Evaluator's ``launcher_options`` dict reaches a launcher as
``LauncherOptions.extra``. Each launcher declares what it reads there in
:attr:`hyperdeme.Launcher.launcher_options`: a dataclass whose fields are the
keys (a default makes a key optional; ``__post_init__`` or, for the built-in
backends, :func:`option`'s check validates the value). :func:`read_extra`
turns the dict into that dataclass, so a misspelt key is a
:class:`~hyperdeme.ConfigTypeError` with a suggestion, raised when an Evaluator
names the launcher, before any evaluation::

    launcher 'k8s' got unknown launcher_options key(s) 'namespce' (did you mean
    'namespace'?); allowed: checkpoint_volume, container_overrides, job_overrides, ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .._core._checks import Check, part
from .._core._errors import ConfigError, ConfigTypeError
from .._core._settings import did_you_mean, setting

__all__ = ["option", "read_extra"]

T = TypeVar("T")


def option(default: T, check: Check, *, factory: Callable[[], T] | None = None) -> T:
    """A field of a built-in backend's options: ``setting`` whose errors name the key as
    the user wrote it, ``launcher_options['namespace'] must be ...``."""

    def labelled(name: str, value: Any) -> Any:
        return part(check, f"launcher_options[{name!r}]", value, name=f"launcher_options.{name}")

    return setting(default, labelled, factory=factory)


def read_extra(kind: type[T] | None, extra: Mapping[str, Any], *, launcher: str) -> T | None:
    """``extra`` as a ``kind``; None when ``kind`` is None (the launcher reads no keys).

    Raises :class:`~hyperdeme.ConfigTypeError` naming ``launcher``, the unknown
    keys with the closest allowed one, and the keys allowed.
    """
    allowed = _keys(kind, launcher)
    unknown = [key for key in extra if key not in allowed]
    if unknown:
        accepted = f"allowed: {', '.join(sorted(allowed))}" if allowed else "it takes none"
        raise ConfigTypeError(
            f"launcher {launcher!r} got unknown launcher_options key(s) "
            f"{did_you_mean(unknown, allowed)}; {accepted}.",
            name=f"launcher_options.{unknown[0]}",
            value=extra[unknown[0]],
        )
    if kind is None:
        return None
    try:
        return kind(**extra)
    except ConfigError:
        raise
    except TypeError as error:  # a required key missing, say
        raise ConfigTypeError(_refused(launcher, extra, error)) from None
    except ValueError as error:  # a plug-in's plain dataclass refusing a value
        raise ConfigError(_refused(launcher, extra, error)) from None


def _refused(launcher: str, extra: Mapping[str, Any], error: Exception) -> str:
    return f"launcher {launcher!r} cannot use launcher_options {dict(extra)!r}: {error}"


def _keys(kind: type[Any] | None, launcher: str) -> tuple[str, ...]:
    if kind is None:
        return ()
    if not dataclasses.is_dataclass(kind):
        raise ConfigTypeError(
            f"launcher {launcher!r} declares launcher_options = {kind!r}, which is not a "
            "dataclass; declare a dataclass whose fields are the keys it accepts."
        )
    return tuple(field.name for field in dataclasses.fields(kind) if field.init)
