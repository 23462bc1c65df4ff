"""crayai.hpo.grid: ``grid.Optimizer`` is :class:`hyperdeme.GridOptimizer`."""

from .._optimizers import GridOptimizer as Optimizer

__all__ = ["Optimizer"]
