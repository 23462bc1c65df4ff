"""crayai.hpo.grid: ``grid.Optimizer`` is :class:`hyperdeme.GridOptimizer`."""

from .._driver._builtin import GridOptimizer as Optimizer

__all__ = ["Optimizer"]
