"""hyperdeme: hyperparameter optimization of real training programs, laptop to supercomputer.

The public API; everything else lives in private modules. ``hyperdeme.hpo``
is a drop-in for ``crayai.hpo``.
"""

from . import condition as condition
from ._errors import ConditionError as ConditionError
from ._errors import ConfigError as ConfigError
from ._errors import ConfigTypeError as ConfigTypeError
from ._errors import EvaluationError as EvaluationError
from ._errors import HyperdemeError as HyperdemeError
from ._errors import LauncherError as LauncherError
from ._errors import TransientLauncherError as TransientLauncherError
from ._errors import UsageError as UsageError
from ._evaluator import Evaluator as Evaluator
from ._journal import read_journal as read_journal
from ._optimize import optimize as optimize
from ._optimize import stream as stream
from ._optimizers import GeneticOptimizer as GeneticOptimizer
from ._optimizers import GridOptimizer as GridOptimizer
from ._optimizers import Optimizer as Optimizer
from ._optimizers import RandomOptimizer as RandomOptimizer
from ._result import Result as Result
from ._space import Params as Params
from ._trial import Candidate as Candidate
from ._trial import Status as Status
from ._trial import Trial as Trial
from .launchers import Exit as Exit
from .launchers import Job as Job
from .launchers import Launcher as Launcher
from .launchers import register as register_launcher
from .strategies import GeneticSearch as GeneticSearch
from .strategies import GridSearch as GridSearch
from .strategies import RandomSearch as RandomSearch
from .strategies import Strategy as Strategy

__version__ = "0.1.0"

__all__ = [
    "Candidate",
    "ConditionError",
    "ConfigError",
    "ConfigTypeError",
    "EvaluationError",
    "Evaluator",
    "Exit",
    "GeneticOptimizer",
    "GeneticSearch",
    "GridOptimizer",
    "GridSearch",
    "HyperdemeError",
    "Job",
    "Launcher",
    "LauncherError",
    "Optimizer",
    "Params",
    "RandomOptimizer",
    "RandomSearch",
    "Result",
    "Status",
    "Strategy",
    "TransientLauncherError",
    "Trial",
    "UsageError",
    "condition",
    "optimize",
    "read_journal",
    "register_launcher",
    "stream",
]
