"""Plain parameter values: numpy scalars as Python objects, equality that keeps bools apart.

numpy is not imported here: a value can only be a numpy scalar once numpy was
imported (by the caller, or by a strategy's generator), so ``sys.modules`` tells.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["is_bool", "plain", "same_value"]


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
