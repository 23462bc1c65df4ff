"""Argument checks shared by the strategies; each raises ConfigError naming the bad value."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from .._errors import ConfigError
from ._mutation import Bounds

__all__ = ["check_bounds", "check_count", "check_rate", "check_seed"]


def check_count(name: str, value: object, minimum: int = 1) -> int:
    """``value`` as an int if it is one (not a bool) and ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"{name} must be an int >= {minimum}, got {value!r}.")
    return int(value)


def check_rate(name: str, value: object) -> float:
    """``value`` as a float if it is a number in [0, 1]."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0.0 <= float(value) <= 1.0
    ):
        raise ConfigError(f"{name} must be in [0, 1], got {value!r}.")
    return float(value)


def check_bounds(name: str, value: object) -> Bounds:
    """Three non-decreasing finite numbers >= 0, as floats."""
    message = f"{name} must be 3 increasing numbers >= 0, got {value!r}."
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 3:
        raise ConfigError(message)
    if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in value):
        raise ConfigError(message)
    small, low, high = (float(v) for v in value)
    if not (math.isfinite(high) and 0.0 <= small <= low <= high):
        raise ConfigError(message)
    return (small, low, high)


def check_seed(seed: object) -> int | None:
    """``seed`` as an int (None or 0: draw a fresh one) if it is an int >= 0."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(f"seed must be an int >= 0 (0 or None draws a fresh seed), got {seed!r}.")
    return int(seed)
