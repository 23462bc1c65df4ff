"""Plain parameter values: numpy scalars as Python objects, equality that keeps bools apart."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plain", "same_value"]


def same_value(a: object, b: object) -> bool:
    """Equality that keeps bools apart from numbers (``True == 1`` in Python)."""
    if isinstance(a, bool | np.bool_) != isinstance(b, bool | np.bool_):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def plain(value: Any) -> Any:
    """A numpy scalar as the Python object it stands for; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value
