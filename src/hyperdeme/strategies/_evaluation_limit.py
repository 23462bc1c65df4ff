"""``EvaluationLimit``: at most N evaluations of a strategy (``hyperdeme run --max-evals``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._core._checks import count
from ._base import Strategy
from ._wrapper import Wrapper

if TYPE_CHECKING:
    from .._core._trial import Candidate

__all__ = ["EvaluationLimit"]


class EvaluationLimit(Wrapper):
    """Wraps ``strategy`` so that it asks for at most ``max_evals`` candidates in all.

    A plan shorter than ``max_evals`` is not lengthened. Everything else is the
    wrapped strategy's: its space, seed, settings (``describe()``: the limit is
    a budget, so a resumed experiment may raise it) and state.
    """

    def __init__(self, strategy: Strategy, *, max_evals: int) -> None:
        self.max_evals: int = count(1)("max_evals", max_evals)
        super().__init__(strategy)
        self._asked = 0

    @property
    def budget(self) -> int:
        planned = self.strategy.budget
        return self.max_evals if planned is None else min(planned, self.max_evals)

    def propose(self, trial_id: int) -> Candidate | None:
        if self._asked >= self.max_evals:
            return None
        candidate = self.strategy.ask(trial_id)
        if candidate is not None:
            self._asked += 1
        return candidate

    def exhausted(self) -> bool:
        return self._asked >= self.max_evals or self.strategy.finished

    def __repr__(self) -> str:
        return f"EvaluationLimit({self.strategy!r}, max_evals={self.max_evals})"
