"""crayai.hpo's ``condition`` module: conditions between parameters.

``from hyperdeme import condition`` then
``Params(spec, conditions=[condition.greater_than("--b", "--a", 5.0)])``.
"""

from ._conditions import Condition as Condition
from ._conditions import equals as equals
from ._conditions import greater_than as greater_than
from ._conditions import inside as inside
from ._conditions import less_than as less_than
from ._conditions import not_equals as not_equals

__all__ = ["Condition", "equals", "greater_than", "inside", "less_than", "not_equals"]
