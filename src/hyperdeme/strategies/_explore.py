"""PBT's explore step (Jaderberg et al. 2017, as Ray Tune does it): a pure function.

Each parameter of the point is, with probability ``resample_probability``,
drawn afresh from its range or value list (log-uniform on log ranges);
otherwise a range value is multiplied by one of the ``factors`` (chosen
uniformly), then clipped into the range and rounded for integers, and a
value-list entry moves one index up or down, staying at the ends of the list.
A parameter with a single value keeps it. The result is repaired with
``space.fix`` so it breaks no forbidden-value rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._space import Choice

if TYPE_CHECKING:
    import numpy as np

    from .._space import Parameter, Params

__all__ = ["explore", "explore_value"]


def explore_value(
    value: Any,
    param: Parameter,
    rng: np.random.Generator,
    factors: Sequence[float],
    resample_probability: float,
) -> tuple[Any, str]:
    """A perturbed value of ``param`` and how it moved (``"x1.2"``, ``"+1"``, ``"resampled"``)."""
    if rng.random() < resample_probability:
        return param.sample(rng), "resampled"
    if isinstance(param, Choice):
        index = param.index(value)
        step = 1 if rng.random() < 0.5 else -1
        moved = min(max(index + step, 0), len(param.values) - 1)
        return param.values[moved], f"{moved - index:+d}"
    factor = float(factors[int(rng.integers(len(factors)))])
    return param.clip(value * factor), f"x{factor:g}"


def explore(
    point: dict[str, Any],
    space: Params,
    rng: np.random.Generator,
    factors: Sequence[float],
    resample_probability: float,
) -> tuple[dict[str, Any], dict[str, str]]:
    """A perturbed copy of ``point`` (every gene, active or not) and how each gene moved."""
    child = dict(point)
    moves: dict[str, str] = {}
    for param in space.parameters:
        child[param.flag], moves[param.flag] = explore_value(
            point[param.flag], param, rng, factors, resample_probability
        )
    return space.fix(child, rng), moves
