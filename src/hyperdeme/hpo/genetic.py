"""crayai.hpo.genetic: ``genetic.Optimizer`` is :class:`hyperdeme.GeneticOptimizer`."""

from .._driver._builtin import GeneticOptimizer as Optimizer

__all__ = ["Optimizer"]
