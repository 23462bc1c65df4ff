"""crayai.hpo.random: ``random.Optimizer`` is ``hpo.RandomOptimizer``,
:class:`hyperdeme.RandomOptimizer` printing crayai's output."""

from ._optimizers import RandomOptimizer as Optimizer

__all__ = ["Optimizer"]
