"""crayai.hpo compatibility: change ``from crayai import hpo`` to ``from hyperdeme import hpo``.

Exposes ``hpo.Params``, ``hpo.Evaluator``, ``hpo.GeneticOptimizer``,
``hpo.RandomOptimizer``, ``hpo.GridOptimizer``, ``hpo.condition`` and the
submodules ``hpo.genetic``, ``hpo.random``, ``hpo.grid`` (each with
``Optimizer``), with crayai's keyword arguments and defaults. crayai's PBT is
the genetic optimizer with ``Evaluator(checkpoint=...)`` and ``@checkpoint``
in the command (``gens_per_epoch`` accepted); hyperdeme adds Jaderberg-style
PBT as ``hpo.PBTOptimizer`` and ``hpo.pbt.Optimizer``.
"""

from .. import condition as condition
from .._driver._builtin import GeneticOptimizer as GeneticOptimizer
from .._driver._builtin import GridOptimizer as GridOptimizer
from .._driver._builtin import PBTOptimizer as PBTOptimizer
from .._driver._builtin import RandomOptimizer as RandomOptimizer
from .._engine._evaluator import Evaluator as Evaluator
from .._space import Params as Params
from . import genetic as genetic
from . import grid as grid
from . import pbt as pbt
from . import random as random

__all__ = [
    "Evaluator",
    "GeneticOptimizer",
    "GridOptimizer",
    "PBTOptimizer",
    "Params",
    "RandomOptimizer",
    "condition",
    "genetic",
    "grid",
    "pbt",
    "random",
]
