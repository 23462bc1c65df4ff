"""crayai.hpo's ``condition`` module: conditions between parameters.

``from hyperdeme import condition`` then
``Params(spec, conditions=[condition.greater_than("--b", "--a", 5.0)])``.
"""

from ._core._public import publish
from ._space import Condition as Condition
from ._space import equals as equals
from ._space import greater_than as greater_than
from ._space import inside as inside
from ._space import less_than as less_than
from ._space import not_equals as not_equals

__all__ = ["Condition", "equals", "greater_than", "inside", "less_than", "not_equals"]

publish(__name__, globals(), __all__)
del publish
