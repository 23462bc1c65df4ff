"""One deme: a bounded population kept sorted best first, with elitist replacement.

An individual is a full point (every gene, active or not), its figure of merit
(lower is better; a failed trial counts as ``inf``) and the id of the trial that
measured it. Ties are broken by trial id, so the order never depends on timing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Deme", "Individual", "tournament"]


class Individual(NamedTuple):
    """A measured point: ``(point, fom, trial_id)``."""

    point: dict[str, Any]
    fom: float
    trial_id: int

    @property
    def ok(self) -> bool:
        return math.isfinite(self.fom)

    def rank(self) -> tuple[float, int]:
        return (self.fom if self.ok else math.inf, self.trial_id)


class Deme:
    """At most ``size`` individuals; the best one is never replaced (elitism)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._members: list[Individual] = []

    @property
    def members(self) -> tuple[Individual, ...]:
        """The population, best first."""
        return tuple(self._members)

    def __len__(self) -> int:
        return len(self._members)

    @property
    def best(self) -> Individual | None:
        return self._members[0] if self._members else None

    def has(self, trial_id: int) -> bool:
        return any(member.trial_id == trial_id for member in self._members)

    def add(self, individual: Individual) -> bool:
        """Join while below ``size``; afterwards replace the worst if strictly better.

        Returns whether ``individual`` is now a member. A trial already present is
        not added twice.
        """
        if self.has(individual.trial_id):
            return False
        if len(self._members) >= self.size:
            if individual.rank() >= self._members[-1].rank():
                return False
            self._members.pop()
        self._members.append(individual)
        self._members.sort(key=Individual.rank)
        return True

    def immigrate(self, individual: Individual) -> None:
        """Take a migrant: it replaces the worst member (or fills a free place).

        With ``size >= 2`` the worst is never the best, so elitism holds.
        """
        if self.has(individual.trial_id):
            return
        if len(self._members) >= self.size:
            self._members.pop()
        self._members.append(individual)
        self._members.sort(key=Individual.rank)

    def replace_all(self, individuals: list[Individual]) -> None:
        """A new generation: the best ``size`` of ``individuals``."""
        unique = {member.trial_id: member for member in individuals}
        self._members = sorted(unique.values(), key=Individual.rank)[: self.size]

    def finite(self) -> list[Individual]:
        """The members whose trials succeeded, best first."""
        return [member for member in self._members if member.ok]


def tournament(rng: np.random.Generator, pool: list[Individual], size: int) -> Individual:
    """The best of ``size`` members of ``pool`` drawn uniformly with replacement."""
    picks = rng.integers(len(pool), size=size)
    return min((pool[int(i)] for i in picks), key=Individual.rank)
