"""``ConcurrencyLimiter``: at most N candidates of a strategy outstanding at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._core._checks import count
from ._base import Strategy
from ._wrapper import Wrapper

if TYPE_CHECKING:
    from .._core._trial import Candidate

__all__ = ["ConcurrencyLimiter"]


class ConcurrencyLimiter(Wrapper):
    """Wraps ``strategy`` so that ``ask`` returns None while ``max_concurrent`` of its
    candidates are outstanding (crayai's grid ``chunk_size``), like Ray Tune's.

    Everything else is the wrapped strategy's: its space, seed, budget and state.
    """

    def __init__(self, strategy: Strategy, *, max_concurrent: int) -> None:
        self.max_concurrent: int = count(1)("max_concurrent", max_concurrent)
        super().__init__(strategy)

    def propose(self, trial_id: int) -> Candidate | None:
        if self.outstanding >= self.max_concurrent:
            return None
        return self.strategy.ask(trial_id)

    def __repr__(self) -> str:
        return f"ConcurrencyLimiter({self.strategy!r}, max_concurrent={self.max_concurrent})"
