"""Driving a strategy synchronously, the way the optimizer would, for the tests."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hyperdeme._space import Params
from hyperdeme._trial import Candidate, Status, Trial
from hyperdeme.strategies import Strategy

Fom = Callable[[int, dict[str, Any]], float]


def trial_for(space: Params, candidate: Candidate, trial_id: int, fom: float) -> Trial:
    """The trial the engine would tell for ``candidate`` (failed when ``fom`` is not finite)."""
    status = Status.OK if math.isfinite(fom) else Status.FAILED
    return Trial(
        id=trial_id,
        params=space.active(candidate.params),
        fom=fom,
        status=status,
        info=dict(candidate.info),
        candidate=candidate,
    )


def drive(
    strategy: Strategy,
    fom: Fom,
    *,
    parallel: int = 1,
    lifo: bool = False,
    max_asks: int = 100_000,
) -> list[Candidate]:
    """Ask up to ``parallel`` candidates at a time; tell oldest (or newest) first.

    Trial ids are given in ask order, starting at 1. Returns every asked candidate.
    """
    asked: list[Candidate] = []
    running: list[tuple[int, Candidate]] = []
    while not strategy.finished:
        while len(running) < parallel:
            candidate = strategy.ask()
            if candidate is None:
                break
            asked.append(candidate)
            running.append((len(asked), candidate))
            assert len(asked) <= max_asks, "the strategy never stops asking"
        assert running, "the strategy waits for nothing yet is not finished"
        trial_id, candidate = running.pop(-1 if lifo else 0)
        strategy.tell(
            trial_for(strategy.space, candidate, trial_id, fom(trial_id, candidate.params))
        )
    return asked
