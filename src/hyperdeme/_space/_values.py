"""Plain parameter values: numpy scalars as Python objects, equality that keeps bools apart.

numpy is not imported here: a value can only be a numpy scalar once numpy was
imported (by the caller, or by a strategy's generator), so ``sys.modules`` tells.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable
from typing import Any

__all__ = ["is_bool", "plain", "same_value", "value_key"]


def is_bool(value: object) -> bool:
    """True for a Python or numpy bool."""
    if isinstance(value, bool):
        return True
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.bool_)


def same_value(a: object, b: object) -> bool:
    """Equality that keeps bools apart from numbers (``True == 1`` in Python)."""
    if is_bool(a) != is_bool(b):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def plain(value: Any) -> Any:
    """A numpy scalar as the Python object it stands for; anything else unchanged."""
    numpy = sys.modules.get("numpy")
    return value.item() if numpy is not None and isinstance(value, numpy.generic) else value


def value_key(value: object) -> Hashable:
    """A hashable stand-in: ``value_key(a) == value_key(b)`` exactly when
    ``same_value(a, b)``, for JSON-able values (NaN is never one: lists refuse it).

    A bool is tagged, so ``True`` and ``1`` differ, as in :func:`same_value`; a
    number, string or None is its own key (``1`` and ``1.0`` are one value). A
    list or dict, unhashable, becomes a tagged tuple or frozenset of its items,
    each item kept as Python compares it (inside a list ``True == 1``, as ``==``
    says). A tuple is tagged apart from a list, since ``[1] != (1,)``.
    """
    if is_bool(value):
        return ("bool", bool(value))
    if type(value) in _PLAIN:  # the common case, first
        return value
    return _frozen(value)


#: types that are their own key (exact types: a subclass goes the long way)
_PLAIN = frozenset({int, float, str, type(None)})


def _frozen(value: object) -> Hashable:
    if isinstance(value, list):
        return ("list", tuple(_frozen(v) for v in value))
    if isinstance(value, tuple):
        return ("tuple", tuple(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((k, _frozen(v)) for k, v in value.items()))
    return value if isinstance(value, Hashable) else ("unhashable", id(value))
