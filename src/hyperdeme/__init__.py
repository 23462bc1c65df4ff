"""hyperdeme: hyperparameter optimization of real training programs, laptop to supercomputer.

The public API; everything else lives in private modules, in layers::

    hyperdeme.hpo, hyperdeme._cli        crayai drop-in, the command line
    hyperdeme._driver                    optimizers, runs, results
    hyperdeme._engine                    evaluator, slots, runner, journal
    hyperdeme.strategies | .launchers    pure ask/tell search | where evaluations run
      | .early_stopping                  | pure rules stopping hopeless trials (ASHA)
    hyperdeme._space                     the search space (a pure model)
    hyperdeme._core                      errors, checks, logging, the trial record

``hyperdeme.hpo`` is a drop-in for ``crayai.hpo``.
"""

from . import condition as condition
from ._core._errors import AllocationEnded as AllocationEnded
from ._core._errors import ConditionError as ConditionError
from ._core._errors import ConfigError as ConfigError
from ._core._errors import ConfigTypeError as ConfigTypeError
from ._core._errors import EvaluationError as EvaluationError
from ._core._errors import HyperdemeError as HyperdemeError
from ._core._errors import HyperdemeWarning as HyperdemeWarning
from ._core._errors import JournalError as JournalError
from ._core._errors import LauncherError as LauncherError
from ._core._errors import TransientLauncherError as TransientLauncherError
from ._core._errors import UsageError as UsageError
from ._core._public import publish
from ._core._trial import Candidate as Candidate
from ._core._trial import CheckpointPlan as CheckpointPlan
from ._core._trial import Status as Status
from ._core._trial import Trial as Trial
from ._core._version import __version__ as __version__
from ._driver._api import optimize as optimize
from ._driver._api import stream as stream
from ._driver._builtin import GeneticOptimizer as GeneticOptimizer
from ._driver._builtin import GridOptimizer as GridOptimizer
from ._driver._builtin import PBTOptimizer as PBTOptimizer
from ._driver._builtin import RandomOptimizer as RandomOptimizer
from ._driver._model_based import CMAESOptimizer as CMAESOptimizer
from ._driver._model_based import OptunaOptimizer as OptunaOptimizer
from ._driver._optimizer import Optimizer as Optimizer
from ._driver._result import Result as Result
from ._engine._evaluator import Evaluator as Evaluator
from ._engine._journal import read_journal as read_journal
from ._engine._journal_async import aread_journal as aread_journal
from ._space import Choice as Choice
from ._space import GridAxis as GridAxis
from ._space import Parameter as Parameter
from ._space import Params as Params
from ._space import Range as Range
from .early_stopping import ASHA as ASHA
from .early_stopping import EarlyStopping as EarlyStopping
from .launchers import Exit as Exit
from .launchers import Job as Job
from .launchers import Launcher as Launcher
from .launchers import LauncherOptions as LauncherOptions
from .launchers import register as register_launcher
from .launchers._trial_context import Stopped as Stopped
from .launchers._trial_context import TrialContext as TrialContext
from .strategies import CMAESSearch as CMAESSearch
from .strategies import GeneticSearch as GeneticSearch
from .strategies import GridSearch as GridSearch
from .strategies import OptunaSearch as OptunaSearch
from .strategies import PBTSearch as PBTSearch
from .strategies import RandomSearch as RandomSearch
from .strategies import Strategy as Strategy

__all__ = [
    "ASHA",
    "AllocationEnded",
    "CMAESOptimizer",
    "CMAESSearch",
    "Candidate",
    "CheckpointPlan",
    "Choice",
    "ConditionError",
    "ConfigError",
    "ConfigTypeError",
    "EarlyStopping",
    "EvaluationError",
    "Evaluator",
    "Exit",
    "GeneticOptimizer",
    "GeneticSearch",
    "GridAxis",
    "GridOptimizer",
    "GridSearch",
    "HyperdemeError",
    "HyperdemeWarning",
    "Job",
    "JournalError",
    "Launcher",
    "LauncherError",
    "LauncherOptions",
    "Optimizer",
    "OptunaOptimizer",
    "OptunaSearch",
    "PBTOptimizer",
    "PBTSearch",
    "Parameter",
    "Params",
    "RandomOptimizer",
    "RandomSearch",
    "Range",
    "Result",
    "Status",
    "Stopped",
    "Strategy",
    "TransientLauncherError",
    "Trial",
    "TrialContext",
    "UsageError",
    "aread_journal",
    "condition",
    "optimize",
    "read_journal",
    "register_launcher",
    "stream",
]

publish(__name__, globals(), __all__)
del publish
