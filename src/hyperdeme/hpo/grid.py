"""crayai.hpo.grid: ``grid.Optimizer`` is ``hpo.GridOptimizer``,
:class:`hyperdeme.GridOptimizer` printing crayai's output."""

from ._optimizers import GridOptimizer as Optimizer

__all__ = ["Optimizer"]
