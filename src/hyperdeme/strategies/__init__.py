"""Search strategies: pure ask/tell state machines over a search space."""

from ._base import Strategy as Strategy
from ._genetic import GeneticSearch as GeneticSearch
from ._grid import GridSearch as GridSearch
from ._random import RandomSearch as RandomSearch

__all__ = ["GeneticSearch", "GridSearch", "RandomSearch", "Strategy"]
