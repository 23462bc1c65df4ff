"""A search space as the unit box ``[0, 1]^d``: what a continuous optimizer searches.

:class:`Box` maps a point of a :class:`~hyperdeme.Params` to a vector and back,
one or more coordinates per parameter:

- a real range: one coordinate, linear in the value (in its logarithm for a
  log range), 0 at the lower bound and 1 at the upper;
- an integer range: one coordinate over ``[low - 0.5, high + 0.5]`` (in log
  space for a log range), rounded to the nearest integer when decoded, so each
  integer owns an equal share of the coordinate (a documented rounding, not
  cmaes' margin: the strategies tell the unrounded vector, so the search still
  sees which way the FoM improves inside one integer's cell);
- a value list of ``k > 1`` values: ``k`` coordinates, one per value, the value
  with the largest coordinate chosen (a one-hot relaxation: no order is
  assumed between the values); a single value has no coordinate.

Inactive parameters (conditions) keep their coordinates: their value is
decoded like any other and ignored by the program, so the search sees them as
directions that do not change the FoM. A forbidden value (a forbidden-value
condition) is redrawn by :meth:`~hyperdeme.Params.fix` after decoding.

Written here because the optimizer libraries each carry their own private
transform (Optuna's ``_SearchSpaceTransform``) bound to their own space types.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .._space import Range, same_value

if TYPE_CHECKING:
    import numpy as np

    from .._space import Params

__all__ = ["Box"]

_HALF = 0.5
#: a one-hot coordinate's value for the chosen value, and for the others, when encoding
_ON, _OFF = 0.75, 0.25


class Box:
    """The unit box of ``space``: :meth:`decode` and :meth:`encode` between the two."""

    def __init__(self, space: Params) -> None:
        self.space = space
        self._slices: list[tuple[str, int, int]] = []  # flag, first coordinate, width
        width = 0
        for parameter in space:
            size = 1 if isinstance(parameter, Range) else len(parameter.values)
            size = 0 if size == 1 and not isinstance(parameter, Range) else size
            self._slices.append((parameter.flag, width, size))
            width += size
        #: coordinates in all (at least 1: a space of single values gets a dummy one)
        self.dim = max(width, 1)

    def decode(self, x: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
        """The point at ``x`` (coordinates clipped to [0, 1]), forbidden values redrawn."""
        values: dict[str, Any] = {}
        for flag, first, size in self._slices:
            parameter = self.space[flag]
            if isinstance(parameter, Range):
                values[flag] = _range_value(parameter, min(max(float(x[first]), 0.0), 1.0))
            elif size == 0:
                values[flag] = parameter.values[0]
            else:
                values[flag] = parameter.values[int(x[first : first + size].argmax())]
        return self.space.fix(values, rng)

    def encode(self, point: dict[str, Any]) -> np.ndarray:
        """A vector that decodes to ``point`` (its value lists one-hot: 0.75 and 0.25)."""
        import numpy as np

        x = np.full(self.dim, _HALF)
        for flag, first, size in self._slices:
            parameter = self.space[flag]
            value = point[flag]
            if isinstance(parameter, Range):
                x[first] = _range_coordinate(parameter, value)
            elif size:
                chosen = (i for i, v in enumerate(parameter.values) if same_value(v, value))
                index = next(chosen, 0)
                x[first : first + size] = _OFF
                x[first + index] = _ON
        return x


def _span(parameter: Range) -> tuple[float, float]:
    """The range's ends in the coordinate's scale (log when ``log``; integers widened by
    half a step each side)."""
    low, high = float(parameter.low), float(parameter.high)
    if parameter.integer:
        low, high = low - _HALF, high + _HALF
    if parameter.log:
        return math.log(low), math.log(high)
    return low, high


def _range_value(parameter: Range, u: float) -> int | float:
    low, high = _span(parameter)
    scaled = low + u * (high - low)
    return parameter.clip(math.exp(scaled) if parameter.log else scaled)


def _range_coordinate(parameter: Range, value: float) -> float:
    low, high = _span(parameter)
    scaled = math.log(value) if parameter.log else float(value)
    return min(max((scaled - low) / (high - low), 0.0), 1.0)
