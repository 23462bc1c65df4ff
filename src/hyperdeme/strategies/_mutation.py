"""Variation operators of the genetic search: pure functions of (value, parameter, rng).

A mutated gene either makes a *local move* or is *redrawn*.

Local moves (crayai's): ranges move multiplicatively, ``x * (1 ± s * u)``, or
additively, ``x ± s * u * (high - low)`` (in log space for log ranges), with ``u``
either *small*, uniform in ``[0, bounds[0]]``, or *large*, uniform in
``[bounds[1], bounds[2]]``, and ``s`` the step *scale* (1: crayai's steps; the
genetic search adapts it); the result is clipped into the range and rounded for
integers. Value lists move to a nearby index: a two-sided geometric step
(``|step| = k`` with probability ``2**-k``), never 0, reflected at the ends of
the list.

A redraw is a uniform draw from the whole domain (log-uniform on log ranges),
different from the current value: the long jump that takes a gene out of a
local basin, which small steps never do.

A point already seen (asked or told) is not evaluated again: :func:`unseen_point`
mutates one active gene of it, up to 8 times, then draws a random point not seen.

Crossover is uniform: each gene from the second parent with probability ``rate``.

Nothing here keeps state; all randomness comes from the ``rng`` passed in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._space import Choice, Range
from ._seen import novel

if TYPE_CHECKING:
    import numpy as np

    from .._space import Parameter, Params
    from ._seen import SeenPoints

__all__ = [
    "Bounds",
    "crossover",
    "mutate_choice",
    "mutate_point",
    "mutate_range",
    "mutate_value",
    "redraw_value",
    "unseen_point",
]

#: (small_high, large_low, large_high): u ~ U(0, small_high) or U(large_low, large_high)
Bounds = tuple[float, float, float]

_STEP_CONTINUE = 0.5  # P(|index step| > k | |step| >= k): near indices far more likely
_REDRAWS = 8  # a redraw that keeps hitting the current value becomes a local move


def mutate_range(
    value: float,
    param: Range,
    rng: np.random.Generator,
    mul_bounds: Bounds,
    add_bounds: Bounds,
    scale: float = 1.0,
) -> int | float:
    """A nearby value of ``param``: a multiplicative or additive move of ``scale`` times
    crayai's size, clipped.

    A zero gene cannot move multiplicatively, nor can a gene whose range straddles 0
    (a relative move would shrink to nothing near 0 and never change sign), so they
    move additively. An
    integer gene whose move rounds to no change takes a ±1 step; a gene pinned at
    a bound by the clip tries the opposite direction once.
    """
    multiplicative = bool(rng.random() < 0.5) and value != 0 and _one_signed(param)
    bounds = mul_bounds if multiplicative else add_bounds
    if rng.random() < 0.5:
        u = float(rng.uniform(0.0, bounds[0]))
    else:
        u = float(rng.uniform(bounds[1], bounds[2]))
    u *= scale
    sign = 1.0 if rng.random() < 0.5 else -1.0
    moved = _move(value, param, sign * u, multiplicative)
    if moved == value:
        moved = _move(value, param, -sign * u, multiplicative)
    if param.integer and moved == value:
        moved = param.clip(int(value) + int(sign))
        if moved == value:
            moved = param.clip(int(value) - int(sign))
    return int(moved) if param.integer else float(moved)


def _one_signed(param: Range) -> bool:
    """True when the range does not straddle 0, so a relative move makes sense."""
    return param.low >= 0 or param.high <= 0


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


def redraw_value(value: Any, param: Parameter, rng: np.random.Generator) -> Any:
    """A uniform draw from ``param``'s domain other than ``value`` (log-uniform on log
    ranges); ``value`` itself when the domain has one value."""
    if isinstance(param, Choice):
        current = param.index(value)
        others = [v for i, v in enumerate(param.values) if i != current]
        return others[int(rng.integers(len(others)))] if others else value
    for _ in range(_REDRAWS):
        drawn = param.sample(rng)
        if drawn != value:
            return drawn
    return mutate_range(value, param, rng, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))


def mutate_value(
    value: Any,
    param: Parameter,
    rng: np.random.Generator,
    mul_bounds: Bounds,
    add_bounds: Bounds,
    scale: float = 1.0,
) -> Any:
    """A local move of one gene, whatever kind of parameter it belongs to."""
    if isinstance(param, Choice):
        return mutate_choice(value, param, rng)
    return mutate_range(value, param, rng, mul_bounds, add_bounds, scale)


def mutate_point(
    point: dict[str, Any],
    space: Params,
    rng: np.random.Generator,
    rate: float,
    mul_bounds: Bounds,
    add_bounds: Bounds,
    *,
    scale: float = 1.0,
    jump: bool = False,
    at_least_one: Sequence[str] = (),
) -> dict[str, Any]:
    """A copy of ``point`` with each gene mutated with probability ``rate``: a local
    move of step ``scale``, except that with ``jump`` one of the mutated genes
    (chosen uniformly) is redrawn instead.

    When no gene was drawn and ``at_least_one`` names flags, one of them (chosen
    uniformly) is mutated anyway, so the result differs from ``point`` there.
    """
    chosen = [param for param in space.parameters if rng.random() < rate]
    if not chosen and at_least_one:
        chosen = [space[at_least_one[int(rng.integers(len(at_least_one)))]]]
    redrawn = int(rng.integers(len(chosen))) if jump and chosen else -1
    child = dict(point)
    for index, param in enumerate(chosen):
        value = child[param.flag]
        if index == redrawn:
            child[param.flag] = redraw_value(value, param, rng)
        else:
            child[param.flag] = mutate_value(value, param, rng, mul_bounds, add_bounds, scale)
    return child


def crossover(
    first: dict[str, Any], second: dict[str, Any], rng: np.random.Generator, rate: float
) -> dict[str, Any]:
    """Uniform crossover: each gene from ``second`` with probability ``rate``."""
    return {flag: second[flag] if rng.random() < rate else value for flag, value in first.items()}


def unseen_point(
    point: dict[str, Any],
    seen: SeenPoints,
    rng: np.random.Generator,
    mul_bounds: Bounds,
    add_bounds: Bounds,
    *,
    scale: float = 1.0,
) -> dict[str, Any] | None:
    """``point`` if not in ``seen``; else one active gene of it mutated (a local move of
    step ``scale``, repaired with ``space.fix``), again from there up to 8 times, until
    unseen; else a random point not seen (``seen.fresh``); None if there is none."""
    space = seen.space

    def vary(repeated: dict[str, Any]) -> dict[str, Any]:
        active = [*space.active(repeated)] or list(space.flags)
        moved = mutate_point(
            repeated, space, rng, 0.0, mul_bounds, add_bounds, scale=scale, at_least_one=active
        )
        return space.fix(moved, rng)

    def draw() -> dict[str, Any]:
        return space.fix(space.sample(rng), rng)

    return novel(point, seen, vary=vary, draw=draw, rng=rng)
