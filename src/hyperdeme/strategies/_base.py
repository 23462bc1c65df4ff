"""The strategy protocol: a pure ask/tell state machine over a search space.

A strategy never touches processes, files, clocks or the event loop, so it is
tested with plain synchronous tests. Call order, driven by the optimizer::

    strategy = SomeStrategy(space, seed=...)   # validates its arguments
    while True:
        candidate = strategy.ask()       # None: nothing to start right now
        ...                              # evaluations run, possibly many at once
        strategy.tell(trial)             # every started candidate is told once
        if strategy.finished: break      # budget used and nothing outstanding

``ask`` returning ``None`` while evaluations are outstanding means "wait for a
result" (a generation barrier); returning ``None`` with nothing outstanding
means the strategy is done. Randomness comes from ``self.rng``, a
``numpy.random.Generator`` created lazily from the explicit seed (an int >= 0,
checked when the strategy is built).
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from ._checks import check_seed

if TYPE_CHECKING:
    from .._space import Params
    from .._trial import Candidate, Trial

__all__ = ["Strategy"]


class Strategy(ABC):
    """Base class of random, grid and genetic search; see the module docstring."""

    def __init__(self, space: Params, *, seed: int | None = None) -> None:
        self.space = space
        #: the seed actually used; a fresh one when None/0 was given, logged for replay
        self.seed: int = check_seed(seed) or secrets.randbits(63)
        self._rng: np.random.Generator | None = None
        self.outstanding = 0

    @property
    def rng(self) -> np.random.Generator:
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
        return self._rng

    def ask(self) -> Candidate | None:
        candidate = self._ask()
        if candidate is not None:
            self.outstanding += 1
        return candidate

    def tell(self, trial: Trial) -> None:
        self.outstanding -= 1
        self._tell(trial)

    @property
    def finished(self) -> bool:
        return self.outstanding == 0 and self._exhausted()

    @abstractmethod
    def _ask(self) -> Candidate | None:
        """The next candidate, or None when none can start now."""

    def _tell(self, trial: Trial) -> None:  # noqa: B027 - optional hook
        """Take a finished trial into account (no-op by default)."""

    @abstractmethod
    def _exhausted(self) -> bool:
        """True once the strategy will never ask again (budget used)."""
