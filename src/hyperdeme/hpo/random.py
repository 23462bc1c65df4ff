"""crayai.hpo.random: ``random.Optimizer`` is :class:`hyperdeme.RandomOptimizer`."""

from .._optimizers import RandomOptimizer as Optimizer

__all__ = ["Optimizer"]
