"""Random search: ``num_iters`` uniform draws of the space, the baseline first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._trial import Candidate
from ._base import Strategy
from ._checks import check_count

if TYPE_CHECKING:
    from .._space import Params

__all__ = ["RandomSearch"]


class RandomSearch(Strategy):
    """``num_iters`` evaluations of random points (``space.sample``: log-uniform on log ranges).

    When every parameter has a default, the first candidate is the defaults (the
    baseline); it counts within ``num_iters``. ``seed`` None or 0 draws a fresh
    seed (kept in ``self.seed``); any other value makes the run reproducible.
    """

    def __init__(self, space: Params, *, num_iters: int, seed: int | None = None) -> None:
        self.num_iters = check_count("num_iters", num_iters)
        super().__init__(space, seed=seed)
        self.asked: int = 0

    def _ask(self) -> Candidate | None:
        if self.asked >= self.num_iters:
            return None
        first = self.asked == 0
        self.asked += 1
        if first and self.space.has_all_defaults:
            point = self.space.fix(self.space.defaults(self.rng), self.rng)
            return Candidate(point, {"strategy": "random", "baseline": True})
        point = self.space.fix(self.space.sample(self.rng), self.rng)
        return Candidate(point, {"strategy": "random"})

    def _exhausted(self) -> bool:
        return self.asked >= self.num_iters
