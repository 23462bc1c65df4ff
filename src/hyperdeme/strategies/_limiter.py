"""``ConcurrencyLimiter``: at most N candidates of a strategy outstanding at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._core._checks import count
from ._base import Strategy

if TYPE_CHECKING:
    from .._core._trial import Candidate, Trial
    from ._seen import SeenPoints

__all__ = ["ConcurrencyLimiter"]


class ConcurrencyLimiter(Strategy):
    """Wraps ``strategy`` so that ``ask`` returns None while ``max_concurrent`` of its
    candidates are outstanding (crayai's grid ``chunk_size``), like Ray Tune's.

    Everything else is the wrapped strategy's: its space, seed, budget and state.
    """

    def __init__(self, strategy: Strategy, *, max_concurrent: int) -> None:
        self.strategy = strategy
        self.max_concurrent: int = count(1)("max_concurrent", max_concurrent)
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
        """The wrapped strategy's: how many run at once does not change what is asked."""
        return self.strategy.describe()

    def propose(self, trial_id: int) -> Candidate | None:
        if self.outstanding >= self.max_concurrent:
            return None
        return self.strategy.ask(trial_id)

    def observe(self, trial: Trial) -> None:
        self.strategy.tell(trial)

    def released_checkpoints(self) -> list[str]:
        return self.strategy.released_checkpoints()

    def exhausted(self) -> bool:
        return self.strategy.finished

    def __repr__(self) -> str:
        return f"ConcurrencyLimiter({self.strategy!r}, max_concurrent={self.max_concurrent})"
