"""crayai.hpo.genetic: ``genetic.Optimizer`` is ``hpo.GeneticOptimizer``,
:class:`hyperdeme.GeneticOptimizer` printing crayai's output."""

from ._optimizers import GeneticOptimizer as Optimizer

__all__ = ["Optimizer"]
