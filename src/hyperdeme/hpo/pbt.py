"""Population-based training: ``pbt.Optimizer`` is :class:`hyperdeme.PBTOptimizer`."""

from .._driver._builtin import PBTOptimizer as Optimizer

__all__ = ["Optimizer"]
