"""``Wrapper``: a strategy that runs another one, changing only when it may ask.

The wrappers (:class:`ConcurrencyLimiter`, :class:`EvaluationLimit`) forward
everything else to the wrapped strategy: its space, seed, budget, settings,
points seen, results and released checkpoints, so resuming and the no-repeat
set see one strategy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import Strategy

if TYPE_CHECKING:
    from .._core._trial import Candidate, Trial
    from ._seen import SeenPoints

__all__ = ["Wrapper"]


class Wrapper(Strategy):
    """Forwards to ``strategy``; subclasses override :meth:`propose` (and what they limit)."""

    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        super().__init__(strategy.space, seed=strategy.seed)

    @property
    def budget(self) -> int | None:
        return self.strategy.budget

    @property
    def budget_settings(self) -> tuple[str, ...]:
        return self.strategy.budget_settings

    @property
    def generation_size(self) -> int | None:
        return self.strategy.generation_size

    @property
    def seen(self) -> SeenPoints:
        """The wrapped strategy's points seen."""
        return self.strategy.seen

    def describe(self) -> dict[str, Any]:
        """The wrapped strategy's: a wrapper changes when it asks, not what."""
        return self.strategy.describe()

    def propose(self, trial_id: int) -> Candidate | None:
        return self.strategy.ask(trial_id)

    def observe(self, trial: Trial) -> None:
        self.strategy.tell(trial)

    def released_checkpoints(self) -> list[str]:
        return self.strategy.released_checkpoints()

    def exhausted(self) -> bool:
        return self.strategy.finished
