"""crayai.hpo.random: ``random.Optimizer`` is :class:`hyperdeme.RandomOptimizer`."""

from .._driver._builtin import RandomOptimizer as Optimizer

__all__ = ["Optimizer"]
