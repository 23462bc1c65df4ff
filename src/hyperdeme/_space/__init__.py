"""The search space, a pure model: parameters, conditions between them, their graph."""

from ._axes import GridAxis
from ._conditions import Condition, equals, greater_than, inside, less_than, not_equals
from ._domains import Choice, Parameter, Range, plain, same_value
from ._params import Params
from ._points import MAX_ENUMERATED, finite_points, finite_size, point_key

__all__ = [
    "MAX_ENUMERATED",
    "Choice",
    "Condition",
    "GridAxis",
    "Parameter",
    "Params",
    "Range",
    "equals",
    "finite_points",
    "finite_size",
    "greater_than",
    "inside",
    "less_than",
    "not_equals",
    "plain",
    "point_key",
    "same_value",
]
