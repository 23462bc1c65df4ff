"""crayai.hpo compatibility: change ``from crayai import hpo`` to ``from hyperdeme import hpo``.

Exposes ``hpo.Params``, ``hpo.Evaluator``, ``hpo.GeneticOptimizer``,
``hpo.RandomOptimizer``, ``hpo.GridOptimizer``, ``hpo.condition`` and the
submodules ``hpo.genetic``, ``hpo.random``, ``hpo.grid`` (each with
``Optimizer``), with crayai's keyword arguments and defaults. crayai's PBT is
the genetic optimizer with ``Evaluator(checkpoint=...)`` and ``@checkpoint``
in the command (``gens_per_epoch`` accepted); hyperdeme adds Jaderberg-style
PBT as ``hpo.PBTOptimizer`` and ``hpo.pbt.Optimizer``.

The optimizers are subclasses of hyperdeme's, with the same keywords, that
print what crayai printed on stdout (a settings banner, a "Global Best" block
per generation of genetic search, a final "Best:" block; ``verbose=True`` adds a
line per trial and the program's output) and put ``log_fn`` files in the current
directory unless the evaluator has a ``run_path``; see :mod:`._console`.
"""

from .. import condition as condition
from .._core._public import publish
from .._engine._evaluator import Evaluator as Evaluator
from .._space import Params as Params
from . import genetic as genetic
from . import grid as grid
from . import pbt as pbt
from . import random as random
from ._optimizers import GeneticOptimizer as GeneticOptimizer
from ._optimizers import GridOptimizer as GridOptimizer
from ._optimizers import PBTOptimizer as PBTOptimizer
from ._optimizers import RandomOptimizer as RandomOptimizer

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

publish(__name__, globals(), __all__)
del publish
