"""Random search: ``num_iters`` draws of the space, the baseline first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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

    Points are drawn without replacement: a draw seen before (asked or told, see
    ``_seen``) is drawn again, and on a finite space the search ends once every
    point was asked, whatever is left of ``num_iters``.
    """

    def __init__(
        self, space: Params, config: RandomConfig | None = None, *, seed: int | None = None
    ) -> None:
        super().__init__(space, seed=seed)
        self.config = config or RandomConfig()
        self.asked = 0
        self._none_left = False  # no unseen point could be found

    @property
    def budget(self) -> int:
        return self.config.num_iters

    @property
    def budget_settings(self) -> tuple[str, ...]:
        return ("num_iters",)

    def propose(self, trial_id: int) -> Candidate | None:
        if self.exhausted():
            return None
        first = self.asked == 0
        if first and self.space.has_all_defaults:
            self.asked += 1
            point = self.space.fix(self.space.defaults(self.rng), self.rng)
            return Candidate(point, {"strategy": "random", "baseline": True})
        fresh = self.seen.fresh(self._draw, self.rng)
        if fresh is None:
            self._none_left = True
            return None
        self.asked += 1
        return Candidate(fresh, {"strategy": "random"})

    def _draw(self) -> dict[str, Any]:
        return self.space.fix(self.space.sample(self.rng), self.rng)

    def exhausted(self) -> bool:
        return self.asked >= self.config.num_iters or self._none_left or self.seen.complete
