"""Validated configuration objects: frozen dataclasses with a check per field.

A field declared with :func:`setting` carries its check (from :mod:`._checks`)
in its metadata; :class:`Config` runs every field's check when the object is
built, stores the normalized value, then :meth:`Config._validate` checks what
involves several fields. So one table (the class body) says, for each
setting, its type, its default and what values it accepts::

    @dataclass(frozen=True, kw_only=True)
    class GeneticConfig(Config):
        pop_size: int = setting(64, count(2))
        mutation_rate: float = setting(0.05, rate)

:func:`checked_keywords` wraps a constructor so a misspelt keyword is a
:class:`~hyperdeme.ConfigTypeError` that suggests the right name (its ``.name`` is
the misspelt keyword, or the missing one).
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import inspect
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Final, ParamSpec, TypeVar

from ._checks import Check
from ._errors import ConfigTypeError

__all__ = ["UNSET", "Config", "Unset", "checked_keywords", "did_you_mean", "setting"]

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


class Unset(enum.Enum):
    """The type of :data:`UNSET`: "this argument was not given"."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


#: the default of an argument whose absence means something (see its docstring)
UNSET: Final = Unset.UNSET


def setting(
    default: T, check: Check, *, factory: Callable[[], T] | None = None, unit: str = ""
) -> T:
    """A dataclass field with a default and the check that validates it.

    ``unit`` (``"seconds"``, ``"minutes"``) is the unit of a quantity; the keyword
    reference of the docs (``scripts/_docs.py``) shows it next to the default.
    """
    metadata: dict[str, Any] = {"check": check, "unit": unit}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class Config:
    """Base of the configuration dataclasses (see the module docstring)."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            check = field.metadata.get("check")
            value = getattr(self, field.name)
            if check is not None and value is not UNSET:
                object.__setattr__(self, field.name, check(field.name, value))
        self._validate()

    def _validate(self) -> None:
        """Checks involving several fields; raise ConfigError naming them."""

    def changes(self) -> dict[str, Any]:
        """The fields whose value differs from the default."""
        defaults = type(self)()
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if getattr(self, field.name) != getattr(defaults, field.name)
        }


def checked_keywords(function: Callable[P, R]) -> Callable[P, R]:
    """Make a call with an unknown keyword or too many positional arguments raise
    :class:`~hyperdeme.ConfigTypeError` naming the allowed keywords (and the
    closest one to a misspelt name)."""
    signature = inspect.signature(function)
    owner = function.__qualname__.rsplit(".", 1)[0]
    label = owner if function.__name__ == "__init__" else function.__qualname__

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as error:
            culprit = _culprit(signature, kwargs, error)
            raise ConfigTypeError(
                _explain(label, signature, kwargs, error),
                name=culprit,
                value=kwargs.get(culprit) if culprit else None,
            ) from None
        return function(*args, **kwargs)

    return wrapper


def _culprit(signature: inspect.Signature, given: dict[str, Any], error: TypeError) -> str | None:
    """The keyword a failed call is about: the first unknown one, else the first
    missing keyword-only one; None for too many positional arguments."""
    parameters = signature.parameters
    unknown = [name for name in given if name not in parameters]
    missing = [
        name
        for name, p in parameters.items()
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty and name not in given
    ]
    if unknown:
        return unknown[0]
    return missing[0] if missing and "missing" in str(error) else None


def did_you_mean(unknown: Iterable[str], allowed: Collection[str]) -> str:
    """The ``unknown`` names, quoted, each with the closest ``allowed`` one when there is
    one: ``'namespce' (did you mean 'namespace'?), 'x'``."""
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, allowed, n=1)
        hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return ", ".join(hints)


def _explain(
    label: str, signature: inspect.Signature, given: dict[str, Any], error: TypeError
) -> str:
    """Why a call to ``label`` did not bind: an unknown keyword, a missing one, or positions."""
    parameters = signature.parameters
    keywords = [
        name
        for name, p in parameters.items()
        if name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    unknown = [name for name in given if name not in parameters]
    if unknown:
        return _unknown_keywords(label, unknown, keywords)
    missing = [
        name
        for name, p in parameters.items()
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty and name not in given
    ]
    if missing and "missing" in str(error):
        return (
            f"{label} needs the keyword argument(s) {', '.join(missing)}, "
            f"e.g. {label}({missing[0]}=...)."
        )
    return _too_many_positional(label, parameters, keywords, error)


def _unknown_keywords(label: str, unknown: list[str], keywords: list[str]) -> str:
    """Each unknown keyword with the closest allowed one, and the allowed ones."""
    return (
        f"{label} got unknown keyword argument(s) {did_you_mean(unknown, keywords)}; "
        f"allowed: {', '.join(sorted(keywords))}."
    )


def _too_many_positional(
    label: str,
    parameters: Mapping[str, inspect.Parameter],
    keywords: list[str],
    error: TypeError,
) -> str:
    """Python's complaint about the positions, with which arguments may be positional."""
    positional = [
        name
        for name, p in parameters.items()
        if name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    return (
        f"{label}: {error}. It takes {len(positional)} positional argument(s) "
        f"({', '.join(positional) or 'none'}); pass the others by keyword, "
        f"e.g. {keywords[-1] if keywords else 'name'}=..."
    )
