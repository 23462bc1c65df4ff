"""How many trials a run will evaluate, when the optimizer's configuration tells."""

from __future__ import annotations

import hyperdeme

__all__ = ["trial_budget"]


def trial_budget(optimizer: hyperdeme.Optimizer, params: hyperdeme.Params) -> int | None:
    """The number of trials ``optimizer`` will run over ``params``; None when not knowable.

    Random search: ``num_iters``. Genetic search: ``generations * num_demes *
    pop_size`` in steady mode; generational mode evaluates each generation's
    elite once, ``num_demes * (pop_size + (generations - 1) * (pop_size - 1))``.
    Grid search: the points of the full product, plus the baseline unless it is
    a grid point, when there are no conditions (conditions skip duplicate and
    forbidden points, so the count is unknown until the walk ends). A run
    stopped by its time budget or by failures ends sooner.
    """
    if isinstance(optimizer, hyperdeme.RandomOptimizer):
        return optimizer.num_iters
    if isinstance(optimizer, hyperdeme.GeneticOptimizer):
        generations, demes, size = optimizer.generations, optimizer.num_demes, optimizer.pop_size
        if optimizer.mode == "steady":
            return generations * demes * size
        return demes * (size + (generations - 1) * (size - 1))
    if isinstance(optimizer, hyperdeme.GridOptimizer):
        if params.conditions:
            return None
        strategy = optimizer.make_strategy(params)
        if not isinstance(strategy, hyperdeme.GridSearch):
            return None
        if not params.has_all_defaults:
            return strategy.size
        # the baseline is asked first, and not again when it is also a grid point
        baseline = params.get_params()
        on_grid = all(
            baseline[flag] in grid for flag, grid in zip(params.flags, strategy.grids, strict=True)
        )
        return strategy.size + (0 if on_grid else 1)
    return None
