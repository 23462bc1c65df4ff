"""One deme: a bounded population kept sorted best first, with elitist replacement.

An individual is a full point (every gene, active or not), its figure of merit
(lower is better; a failed trial counts as ``inf``) and the id of the trial that
measured it. Ties are broken by trial id, so the order never depends on timing.

**Several objectives.** An individual measured on several objectives also
carries their scores (``scores``, lower is better in each). Once a deme holds
one, it orders its members as NSGA-II does (:func:`pareto_ranks`): by
non-dominated front, then by crowding distance within the front (the most
isolated first), then by trial id; a failed trial scores ``inf`` everywhere.
Replacement stays steady-state: a newcomer joins, the population is ranked
again, and the last one leaves, so the first front's extremes (infinitely
crowded) are never dropped while it has more than two.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .._core._pareto import pareto_order

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Deme", "Individual", "RankKey", "pareto_ranks", "selection_key", "tournament"]

#: how selection compares individuals: lower is better
RankKey = Callable[["Individual"], tuple[Any, ...]]


class Individual(NamedTuple):
    """A measured point: ``(point, fom, trial_id)``, and with several objectives their
    ``scores`` (empty otherwise)."""

    point: dict[str, Any]
    fom: float
    trial_id: int
    scores: tuple[float, ...] = ()

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
        #: True once a member with several objectives joined (NSGA-II order)
        self._pareto = False

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
        if self._pareto or len(individual.scores) > 1:
            self._pareto = True
            self._members.append(individual)
            self._sort()
            if len(self._members) > self.size:
                self._members.pop()
            return self.has(individual.trial_id)
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
        self._sort()

    def replace_all(self, individuals: list[Individual]) -> None:
        """A new generation: the best ``size`` of ``individuals``."""
        unique = {member.trial_id: member for member in individuals}
        self._pareto = self._pareto or any(len(m.scores) > 1 for m in unique.values())
        self._members = list(unique.values())
        self._sort()
        del self._members[self.size :]

    def _sort(self) -> None:
        if self._pareto:
            ranks = pareto_ranks(self._members)
            self._members.sort(key=lambda member: ranks[member.trial_id])
        else:
            self._members.sort(key=Individual.rank)

    def finite(self) -> list[Individual]:
        """The members whose trials succeeded, best first."""
        return [member for member in self._members if member.ok]


def pareto_ranks(individuals: Sequence[Individual]) -> dict[int, tuple[int, float, int]]:
    """Each individual's NSGA-II rank by trial id: ``(front, -crowding distance, id)``
    among ``individuals`` (lower is better; see the module docstring)."""
    width = max((len(m.scores) for m in individuals), default=1)
    failed = (math.inf,) * width
    vectors = [m.scores if len(m.scores) == width else failed for m in individuals]
    order = pareto_order(vectors)
    return {
        m.trial_id: (front, crowded, m.trial_id)
        for m, (front, crowded) in zip(individuals, order, strict=True)
    }


def selection_key(pool: Sequence[Individual]) -> RankKey:
    """How tournaments among ``pool`` compare: the FoM (``Individual.rank``), or with
    several objectives the NSGA-II rank within ``pool``."""
    if not any(len(m.scores) > 1 for m in pool):
        return Individual.rank
    ranks = pareto_ranks(pool)
    return lambda member: ranks[member.trial_id]


def tournament(
    rng: np.random.Generator,
    pool: list[Individual],
    size: int,
    key: RankKey = Individual.rank,
) -> Individual:
    """The best of ``size`` members of ``pool`` drawn uniformly with replacement."""
    picks = rng.integers(len(pool), size=size)
    return min((pool[int(i)] for i in picks), key=key)
