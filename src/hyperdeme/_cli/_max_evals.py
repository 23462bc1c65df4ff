"""``hyperdeme run --max-evals N``: the experiment file's budget, overridden.

For each built-in type N is the number of evaluations in all: random sets
``num_iters = N``; genetic sets ``max_evals = N`` and drops the file's
``generations`` (so the generations cover N; ``num_demes`` and ``pop_size``
stay as the file says); cmaes and optuna set ``max_evals = N``. Grid and PBT
plan their own number of evaluations
(the grid's points, ``population * steps``), as does a strategy plug-in: for
them N is a limit (:class:`hyperdeme.strategies.EvaluationLimit`), the plan
cut after N evaluations and never lengthened. Either way the override is a
budget: ``--resume`` with a larger N continues the experiment.
"""

from __future__ import annotations

import functools
from typing import Any

import hyperdeme
from hyperdeme.strategies import EvaluationLimit, Strategy, StrategyFactory

__all__ = ["budget_arguments", "limited"]


def budget_arguments(kind: object, arguments: dict[str, Any], max_evals: int | None) -> bool:
    """Set ``max_evals`` as ``kind``'s own budget setting in ``arguments``; False when
    ``kind`` has none (then see :func:`limited`)."""
    if max_evals is None:
        return True
    if kind == "random":
        arguments["num_iters"] = max_evals
        return True
    if kind in ("cmaes", "optuna"):
        arguments["max_evals"] = max_evals
        return True
    if kind == "genetic":
        arguments["max_evals"] = max_evals
        arguments.pop("generations", None)
        return True
    return False


def limited(optimizer: hyperdeme.Optimizer, max_evals: int) -> hyperdeme.Optimizer:
    """``optimizer``, its strategy limited to ``max_evals`` evaluations."""
    optimizer.strategy = functools.partial(_limit, optimizer.strategy, max_evals)
    return optimizer


def _limit(
    factory: StrategyFactory, max_evals: int, space: hyperdeme.Params, *, seed: int | None
) -> Strategy:
    return EvaluationLimit(factory(space, seed=seed), max_evals=max_evals)
