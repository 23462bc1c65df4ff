"""Search strategies: pure ask/tell state machines over a search space.

Write your own by subclassing :class:`Strategy` (see its module docstring for
the protocol); the built-in ones each have a validated config.
"""

from .._core._public import publish
from ._base import Strategy, StrategyFactory
from ._cmaes import CMAESConfig, CMAESSearch
from ._evaluation_limit import EvaluationLimit
from ._genetic import GeneticConfig, GeneticSearch
from ._grid import GridConfig, GridSearch
from ._limiter import ConcurrencyLimiter
from ._optuna import OptunaSearch
from ._pbt import PBTConfig, PBTSearch
from ._random import RandomConfig, RandomSearch
from ._seen import SeenPoints

__all__ = [
    "CMAESConfig",
    "CMAESSearch",
    "ConcurrencyLimiter",
    "EvaluationLimit",
    "GeneticConfig",
    "GeneticSearch",
    "GridConfig",
    "GridSearch",
    "OptunaSearch",
    "PBTConfig",
    "PBTSearch",
    "RandomConfig",
    "RandomSearch",
    "SeenPoints",
    "Strategy",
    "StrategyFactory",
]

publish(__name__, globals(), __all__)
del publish
