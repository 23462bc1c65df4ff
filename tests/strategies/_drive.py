"""Driving a strategy synchronously, the way the engine would, for the tests.

The engine gives trial ids consecutively from 1; an id whose ``ask`` returned
None is offered again with the next ``ask``. :class:`Driver` does the same and
remembers which candidate each id was given to.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hyperdeme import Candidate, Params, Status, Trial
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


class Driver:
    """Asks ``strategy`` with the engine's trial ids and tells it results by id."""

    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        #: every candidate asked; ``asked[i]`` is trial ``i + 1``
        self.asked: list[Candidate] = []
        #: the ids asked and not yet told, oldest first
        self.running: list[int] = []

    @property
    def next_id(self) -> int:
        """The id the next ``ask`` offers (a refused id is offered again)."""
        return len(self.asked) + 1

    @property
    def last_id(self) -> int:
        """The id of the latest candidate asked."""
        return len(self.asked)

    def ask(self) -> Candidate | None:
        """Ask with the next id; None when the strategy has nothing to start now."""
        trial_id = self.next_id
        candidate = self.strategy.ask(trial_id)
        if candidate is not None:
            self.asked.append(candidate)
            self.running.append(trial_id)
        return candidate

    def take(self) -> Candidate:
        """Ask, and insist on a candidate."""
        candidate = self.ask()
        assert candidate is not None, f"trial {self.next_id} was refused"
        return candidate

    def candidate(self, trial_id: int) -> Candidate:
        return self.asked[trial_id - 1]

    def trial(self, trial_id: int, fom: float) -> Trial:
        """The trial of ``trial_id`` with result ``fom``, as the engine would tell it."""
        return trial_for(self.strategy.space, self.candidate(trial_id), trial_id, fom)

    def tell(self, trial_id: int, fom: float) -> None:
        """Tell the result of an outstanding trial."""
        self.running.remove(trial_id)
        self.strategy.tell(self.trial(trial_id, fom))

    def run(
        self, fom: Fom, *, parallel: int = 1, lifo: bool = False, max_asks: int = 100_000
    ) -> list[Candidate]:
        """Until the strategy is finished: ask while fewer than ``parallel`` trials run,
        then tell the oldest (or newest) one.

        Trials already running count. Returns the candidates asked by this call.
        """
        start = len(self.asked)
        while not self.strategy.finished:
            while len(self.running) < parallel and self.ask() is not None:
                assert len(self.asked) <= max_asks, "the strategy never stops asking"
            assert self.strategy.outstanding == len(self.running)
            assert self.running, "the strategy waits for nothing yet is not finished"
            trial_id = self.running[-1 if lifo else 0]
            self.tell(trial_id, fom(trial_id, self.candidate(trial_id).params))
        return self.asked[start:]


def drive(
    strategy: Strategy,
    fom: Fom,
    *,
    parallel: int = 1,
    lifo: bool = False,
    max_asks: int = 100_000,
) -> list[Candidate]:
    """Run a fresh strategy to its end (see :meth:`Driver.run`); every asked candidate,
    trial ``i + 1`` at index ``i``."""
    return Driver(strategy).run(fom, parallel=parallel, lifo=lifo, max_asks=max_asks)
