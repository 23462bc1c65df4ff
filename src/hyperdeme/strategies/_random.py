"""Random search: ``num_iters`` draws of the space, the baseline first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._core._checks import count
from .._core._settings import Config, setting
from .._core._trial import Candidate
from ._base import Strategy

if TYPE_CHECKING:
    from .._space import Params

__all__ = ["RandomConfig", "RandomSearch"]


@dataclass(frozen=True, kw_only=True)
class RandomConfig(Config):
    """Random search's settings (crayai's names and defaults)."""

    #: evaluations in all, the baseline included
    num_iters: int = setting(10, count(1))

    def strategy(self, space: Params, *, seed: int | None = None) -> RandomSearch:
        return RandomSearch(space, self, seed=seed)


class RandomSearch(Strategy):
    """``num_iters`` evaluations of random points (``space.sample``: log-uniform on log ranges).

    When every parameter has a default, the first candidate is the defaults (the
    baseline); it counts within ``num_iters``. ``seed`` None or 0 draws a fresh
    seed (kept in ``self.seed``); any other value makes the run reproducible.
    """

    def __init__(
        self, space: Params, config: RandomConfig | None = None, *, seed: int | None = None
    ) -> None:
        super().__init__(space, seed=seed)
        self.config = config or RandomConfig()
        self.asked = 0

    @property
    def budget(self) -> int:
        return self.config.num_iters

    @property
    def budget_settings(self) -> tuple[str, ...]:
        return ("num_iters",)

    def propose(self, trial_id: int) -> Candidate | None:
        if self.asked >= self.config.num_iters:
            return None
        first = self.asked == 0
        self.asked += 1
        if first and self.space.has_all_defaults:
            point = self.space.fix(self.space.defaults(self.rng), self.rng)
            return Candidate(point, {"strategy": "random", "baseline": True})
        point = self.space.fix(self.space.sample(self.rng), self.rng)
        return Candidate(point, {"strategy": "random"})

    def exhausted(self) -> bool:
        return self.asked >= self.config.num_iters
