"""How many trials a run will evaluate, when the optimizer's strategy can tell."""

from __future__ import annotations

import hyperdeme

__all__ = ["trial_budget"]


def trial_budget(optimizer: hyperdeme.Optimizer, params: hyperdeme.Params) -> int | None:
    """The number of trials ``optimizer`` will run over ``params``; None when not knowable
    (see each strategy's ``budget``). A run stopped by its time budget or by failures
    ends sooner."""
    return optimizer.make_strategy(params).budget
