"""Variation operators of the genetic search: pure functions of (value, parameter, rng).

Ranges move multiplicatively, ``x * (1 ± u)``, or additively, ``x ± u * (high - low)``
(in log space for log ranges), with ``u`` either *small*, uniform in
``[0, bounds[0]]``, or *large*, uniform in ``[bounds[1], bounds[2]]``; the result
is clipped into the range and rounded for integers. Value lists move to a nearby
index: a two-sided geometric step (``|step| = k`` with probability ``2**-k``),
never 0, reflected at the ends of the list. Crossover is uniform.

Nothing here keeps state; all randomness comes from the ``rng`` passed in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._space import Choice, Range

if TYPE_CHECKING:
    import numpy as np

    from .._space import Parameter, Params

__all__ = [
    "Bounds",
    "crossover",
    "mutate_choice",
    "mutate_point",
    "mutate_range",
    "mutate_value",
]

#: (small_high, large_low, large_high): u ~ U(0, small_high) or U(large_low, large_high)
Bounds = tuple[float, float, float]

_STEP_CONTINUE = 0.5  # P(|index step| > k | |step| >= k): near indices far more likely


def mutate_range(
    value: float, param: Range, rng: np.random.Generator, mul_bounds: Bounds, add_bounds: Bounds
) -> int | float:
    """A nearby value of ``param``: a multiplicative or additive move, clipped.

    A zero gene cannot move multiplicatively, so it moves additively instead. An
    integer gene whose move rounds to no change takes a ±1 step; a gene pinned at
    a bound by the clip tries the opposite direction once.
    """
    multiplicative = bool(rng.random() < 0.5) and value != 0
    bounds = mul_bounds if multiplicative else add_bounds
    if rng.random() < 0.5:
        u = float(rng.uniform(0.0, bounds[0]))
    else:
        u = float(rng.uniform(bounds[1], bounds[2]))
    sign = 1.0 if rng.random() < 0.5 else -1.0
    moved = _move(value, param, sign * u, multiplicative)
    if moved == value:
        moved = _move(value, param, -sign * u, multiplicative)
    if param.integer and moved == value:
        moved = param.clip(int(value) + int(sign))
        if moved == value:
            moved = param.clip(int(value) - int(sign))
    return int(moved) if param.integer else float(moved)


def _move(value: float, param: Range, delta: float, multiplicative: bool) -> int | float:
    if multiplicative:
        target = value * (1.0 + delta)
    elif param.log and value > 0 and param.low > 0:
        span = math.log(param.high) - math.log(param.low)
        target = math.exp(math.log(value) + delta * span)
    else:
        target = value + delta * (param.high - param.low)
    if param.integer:
        return param.clip(round(target))
    return param.clip(target)


def mutate_choice(value: Any, param: Choice, rng: np.random.Generator) -> Any:
    """A value of ``param`` at a nearby index (never the same one if there are two or more)."""
    size = len(param.values)
    if size < 2:
        return value
    index = param.index(value)
    while True:
        step = int(rng.geometric(1.0 - _STEP_CONTINUE))
        if rng.random() < 0.5:
            step = -step
        target = _reflect(index + step, size)
        if target != index:
            return param.values[target]


def _reflect(index: int, size: int) -> int:
    period = 2 * (size - 1)
    folded = index % period
    return period - folded if folded > size - 1 else folded


def mutate_value(
    value: Any,
    param: Parameter,
    rng: np.random.Generator,
    mul_bounds: Bounds,
    add_bounds: Bounds,
) -> Any:
    """Mutate one gene, whatever kind of parameter it belongs to."""
    if isinstance(param, Choice):
        return mutate_choice(value, param, rng)
    return mutate_range(value, param, rng, mul_bounds, add_bounds)


def mutate_point(
    point: dict[str, Any],
    space: Params,
    rng: np.random.Generator,
    rate: float,
    mul_bounds: Bounds,
    add_bounds: Bounds,
    *,
    at_least_one: Sequence[str] = (),
) -> dict[str, Any]:
    """A copy of ``point`` with each gene mutated with probability ``rate``.

    When no gene was drawn and ``at_least_one`` names flags, one of them (chosen
    uniformly) is mutated anyway, so the result differs from ``point`` there.
    """
    child = dict(point)
    changed = False
    for param in space.parameters:
        if rng.random() < rate:
            child[param.flag] = mutate_value(child[param.flag], param, rng, mul_bounds, add_bounds)
            changed = True
    if not changed and at_least_one:
        flag = at_least_one[int(rng.integers(len(at_least_one)))]
        child[flag] = mutate_value(child[flag], space[flag], rng, mul_bounds, add_bounds)
    return child


def crossover(
    first: dict[str, Any], second: dict[str, Any], rng: np.random.Generator, rate: float
) -> dict[str, Any]:
    """Uniform crossover: each gene from ``second`` with probability ``rate``."""
    return {flag: second[flag] if rng.random() < rate else value for flag, value in first.items()}
