"""The search space, a pure model: parameters, conditions between them, their graph."""

from ._axes import GridAxis
from ._conditions import Condition, equals, greater_than, inside, less_than, not_equals
from ._domains import Choice, Parameter, Range, plain, same_value
from ._params import Params

__all__ = [
    "Choice",
    "Condition",
    "GridAxis",
    "Parameter",
    "Params",
    "Range",
    "equals",
    "greater_than",
    "inside",
    "less_than",
    "not_equals",
    "plain",
    "same_value",
]
