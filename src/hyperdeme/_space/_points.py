"""Points as sets: the key that says two points are the same, and finite spaces' sizes.

Two points are *the same point* when their active parameters are equal (genes
of parameters switched off by conditions do not count): :func:`point_key`
turns a point into a hashable key over its active parameters, each value
canonicalised: numbers compared as numbers (an integer range's ``2`` and
``2.0`` alike, numpy's scalars as the values they hold, a real range's float as
stored), bools kept apart from numbers (``True`` is not ``1``), lists and dicts
by their JSON text.

A space is *finite* when every parameter is a value list or an integer range.
:func:`finite_size` is then its number of distinct points: without conditions
the product of the domains' sizes (computed, not enumerated, whatever its
size); with conditions the distinct active points no forbidden-value rule
breaks, counted by enumerating the product when it has at most
:data:`MAX_ENUMERATED` points, and unknown (None) beyond. A space with a real
range is infinite (None).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Hashable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._core._checks import is_number
from ._domains import Choice, Parameter
from ._values import is_bool

if TYPE_CHECKING:
    from ._params import Params

__all__ = ["MAX_ENUMERATED", "finite_points", "finite_size", "point_key"]

#: products of at most this many points are enumerated (conditions; finding what is left)
MAX_ENUMERATED = 100_000


def point_key(space: Params, point: Mapping[str, Any]) -> Hashable:
    """A hashable key equal for two points exactly when their active parameters are equal."""
    if space.conditions:
        point = space.active(point)
    # in the space's order, whatever the point's; without conditions all present are active
    return tuple((p.flag, _canonical(point[p.flag])) for p in space.parameters if p.flag in point)


def _canonical(value: Any) -> Hashable:
    """``value`` as a hashable key part: numbers (numpy's too) compare as numbers
    (``2 == 2.0``), bools apart from them, unhashable values (lists, dicts) by their
    JSON text."""
    if type(value) is float or type(value) is int:  # the common case, quickly (not bool)
        return ("number", value)
    if is_bool(value):
        return ("bool", bool(value))
    if is_number(value):
        return ("number", value)
    try:
        hash(value)
    except TypeError:
        return ("json", json.dumps(value, sort_keys=True, default=repr))
    return ("value", value)


def _values(parameter: Parameter) -> range | tuple[Any, ...] | None:
    """Every value of a finite domain (a lazy range for integer ranges); None if infinite."""
    if isinstance(parameter, Choice):
        return parameter.values
    if parameter.integer:
        return range(int(parameter.low), int(parameter.high) + 1)
    return None


def finite_size(space: Params) -> int | None:
    """The number of distinct points of a finite space; None if infinite or unknown."""
    domains = [_values(parameter) for parameter in space.parameters]
    if any(domain is None for domain in domains):
        return None
    product = math.prod(len(domain) for domain in domains if domain is not None)
    if not space.conditions:
        return product
    if product > MAX_ENUMERATED:
        return None
    return len({point_key(space, point) for point in finite_points(space)})


def finite_points(space: Params) -> Iterator[dict[str, Any]]:
    """Every allowed point of a finite space whose product is at most :data:`MAX_ENUMERATED`
    (nothing otherwise); points equal on their active parameters may come more than once."""
    domains = [_values(parameter) for parameter in space.parameters]
    if any(domain is None for domain in domains):
        return
    if math.prod(len(domain) for domain in domains if domain is not None) > MAX_ENUMERATED:
        return
    for values in itertools.product(*(d for d in domains if d is not None)):
        point = dict(zip(space.flags, values, strict=True))
        if space.allowed(point):
            yield point
