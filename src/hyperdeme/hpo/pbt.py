"""Population-based training: ``pbt.Optimizer`` is ``hpo.PBTOptimizer``,
:class:`hyperdeme.PBTOptimizer` printing crayai's output."""

from ._optimizers import PBTOptimizer as Optimizer

__all__ = ["Optimizer"]
