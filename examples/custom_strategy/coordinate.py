"""A strategy of your own: coordinate search, with public names only.

Start at the defaults; each round tries every numeric parameter one step up
and one step down from the best point so far (and a random value of each
value list); a round that finds nothing better halves the step. The points of
a round are evaluated at once; the next round waits for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import hyperdeme


@dataclass(frozen=True)
class CoordinateSettings:
    """Recorded by ``describe()``: resuming with other settings is refused."""

    max_evals: int = 60
    step: float = 0.25  # a fraction of each range's width


class CoordinateSearch(hyperdeme.Strategy):
    def __init__(
        self, space: hyperdeme.Params, *, seed: int | None = None, max_evals: int = 60,
        step: float = 0.25,
    ) -> None:  # fmt: skip
        super().__init__(space, seed=seed)
        if max_evals < 1 or not 0 < step <= 1:
            raise hyperdeme.ConfigError(
                f"coordinate search needs max_evals >= 1 and step in (0, 1], "
                f"got max_evals={max_evals!r}, step={step!r}."
            )
        self.config = CoordinateSettings(max_evals=max_evals, step=step)
        self.step = step
        self.center: dict[str, Any] = space.defaults(self.rng)
        self.center_fom = math.inf
        self.pending = [self.center]  # the points of this round not yet proposed
        self.asked = 0
        self.improved = False

    @property
    def budget(self) -> int:
        return self.config.max_evals

    def propose(self, trial_id: int) -> hyperdeme.Candidate | None:
        if self.exhausted():
            return None
        if not self.pending:
            if self.outstanding:
                return None  # wait for the round's results
            self.step = self.step if self.improved else self.step / 2
            self.improved = False
            self.pending = self.neighbours()
        self.asked += 1
        return hyperdeme.Candidate(self.pending.pop(), {"step": self.step})

    def observe(self, trial: hyperdeme.Trial) -> None:
        if trial.ok and trial.fom < self.center_fom and trial.candidate is not None:
            self.center, self.center_fom = trial.candidate.params, trial.fom
            self.improved = True

    def exhausted(self) -> bool:
        return self.asked >= self.config.max_evals

    def neighbours(self) -> list[dict[str, Any]]:
        """The center with one parameter moved, for each parameter and move, in order."""
        points = []
        for parameter in self.space.parameters:
            value = self.center[parameter.flag]
            if isinstance(parameter, hyperdeme.Range):
                width = (parameter.high - parameter.low) * self.step
                moved = [parameter.clip(value - width), parameter.clip(value + width)]
            else:
                moved = [parameter.sample(self.rng)]
            for new in dict.fromkeys(moved):
                if new != value:
                    points.append(self.space.fix({**self.center, parameter.flag: new}, self.rng))
        return points[::-1]  # pop() proposes them in order
