"""crayai.hpo.genetic: ``genetic.Optimizer`` is :class:`hyperdeme.GeneticOptimizer`."""

from .._optimizers import GeneticOptimizer as Optimizer

__all__ = ["Optimizer"]
