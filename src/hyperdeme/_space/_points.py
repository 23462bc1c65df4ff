"""Points as sets: the key that says two points are the same, and finite spaces' sizes.

Two points are *the same point* when their active parameters are equal (genes
of parameters switched off by conditions do not count): :func:`point_key`
turns a point into a hashable key over its active parameters, each value
canonicalised (an integer range's value as an int, a real range's as the float
stored, a value list's entry as the plain Python value; bools kept apart from
numbers, lists and dicts by their JSON text).

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

from ._domains import Choice, Parameter, Range
from ._values import is_bool, plain

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
    return tuple(
        (p.flag, _canonical(p, point[p.flag])) for p in space.parameters if p.flag in point
    )


def _canonical(parameter: Parameter, value: Any) -> Hashable:
    if type(value) is float and isinstance(parameter, Range):  # the common case, quickly
        return ("number", int(value) if parameter.integer and value.is_integer() else value)
    value = plain(value)
    if is_bool(value):
        return ("bool", bool(value))
    if isinstance(parameter, Range) and isinstance(value, int | float):
        whole = parameter.integer and float(value).is_integer()
        return ("number", int(value) if whole else float(value))
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
