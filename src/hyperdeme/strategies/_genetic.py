"""Genetic search over several demes (island model), crayai's defaults.

Each deme holds at most ``pop_size`` individuals, kept best first. It starts
from the baseline (the defaults) and mutants of it; parameters without a
default are drawn uniformly for each initial individual. The initial mutants
use a mutation rate of ``max(mutation_rate, 0.5)`` and change at least one
active gene, so the first population is diverse. When every parameter has a
default, the baseline is evaluated once (deme 0) and its result joins every
deme; otherwise each deme evaluates its own partly random "baseline".

A child takes two parents by tournament (size 2) within its deme, crosses them
uniformly (each gene from the second parent with probability
``crossover_rate``) and mutates each gene with probability ``mutation_rate``
(see ``_mutation``). A child whose active parameters equal a parent's gets one
active gene mutated, so no evaluation is spent on a copy. Parents are drawn
from the finite individuals of the deme, else of any deme; a failed trial is a
parent only when no trial has succeeded yet. A child of a deme none of whose
trials has finished is a mutant of the baseline. Every point is repaired with
``space.fix`` and keeps the genes of inactive parameters.

Two modes:

``"steady"`` (default)
    No generation barrier. The first ``pop_size`` asks of each deme, made
    round-robin, are its initial population. Every told trial joins its deme
    (added while the deme is below ``pop_size``, afterwards replacing the worst
    if strictly better) at once, and owes its deme a child: children are asked
    for the demes in the order their trials finished (round-robin when none is
    owed). With at least ``num_demes * pop_size`` slots a freed slot gets a
    child of the deme that just finished; with fewer, each deme keeps
    ``pop_size`` evaluations running or owed, so no deme starves. A deme's
    generation is ``pop_size`` of its evaluations told; each
    ``migration_interval`` generations its best is copied into the next deme
    (a ring), replacing the worst. Budget: ``generations * num_demes *
    pop_size`` evaluations.

``"generational"``
    crayai's synchronous generations: ``pop_size`` candidates per deme, then
    ``ask`` returns None until all are told. The next generation keeps each
    deme's best with its result (not evaluated again) plus ``pop_size - 1``
    children; migration happens between generations. Budget:
    ``num_demes * (pop_size + (generations - 1) * (pop_size - 1))``.

The same seed gives the same candidates for the same order of ``tell`` calls.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._errors import ConfigError
from .._trial import Candidate
from ._base import Strategy
from ._checks import check_bounds, check_count, check_rate
from ._deme import Deme, Individual, tournament
from ._mutation import crossover, mutate_point

if TYPE_CHECKING:
    from .._space import Params
    from .._trial import Trial

__all__ = ["GeneticSearch"]

Mode = Literal["steady", "generational"]
_MODES: tuple[Mode, ...] = ("steady", "generational")
_TOURNAMENT_SIZE = 2
_INITIAL_MUTATION_RATE = 0.5


@dataclass(frozen=True, slots=True)
class _Asked:
    deme: int
    origin: str


class GeneticSearch(Strategy):
    """Island-model genetic algorithm; see the module docstring.

    ``slots``, if given, caps how many candidates may be outstanding at once.
    """

    def __init__(
        self,
        space: Params,
        *,
        generations: int = 1000,
        num_demes: int = 4,
        pop_size: int = 64,
        mutation_rate: float = 0.05,
        crossover_rate: float = 0.33,
        migration_interval: int = 5,
        mul_mutation_bounds: Sequence[float] = (0.01, 0.1, 0.2),
        add_mutation_bounds: Sequence[float] = (0.03, 0.03, 0.13),
        mode: Mode = "steady",
        seed: int | None = None,
        slots: int | None = None,
    ) -> None:
        generations = check_count("generations", generations)
        num_demes = check_count("num_demes", num_demes)
        pop_size = check_count("pop_size", pop_size, 2)
        self.migration_interval = check_count("migration_interval", migration_interval)
        self.mutation_rate = check_rate("mutation_rate", mutation_rate)
        self.crossover_rate = check_rate("crossover_rate", crossover_rate)
        self.mul_mutation_bounds = check_bounds("mul_mutation_bounds", mul_mutation_bounds)
        self.add_mutation_bounds = check_bounds("add_mutation_bounds", add_mutation_bounds)
        if mode not in _MODES:
            raise ConfigError(f"mode must be 'steady' or 'generational', got {mode!r}.")
        if slots is not None:
            check_count("slots", slots)
        super().__init__(space, seed=seed)
        self.generations = generations
        self.num_demes = num_demes
        self.pop_size = pop_size
        self.mode: Mode = mode
        self.slots = slots
        if mode == "steady":
            self.budget = generations * num_demes * pop_size
        else:
            self.budget = num_demes * (pop_size + (generations - 1) * (pop_size - 1))
        self._share_baseline = space.has_all_defaults
        self._demes = [Deme(pop_size) for _ in range(num_demes)]
        self._asked = 0
        self._asked_in_deme = [0] * num_demes
        self._told_in_deme = [0] * num_demes
        self._told = 0
        self._pending: dict[int, _Asked] = {}
        self._best: Individual | None = None
        # steady: demes whose trials finished, oldest first; round-robin fallback
        self._freed: deque[int] = deque()
        self._round_robin = 0
        # generational: the current generation's plan of demes and its results
        self._generation = 0
        self._plan = [d for _ in range(pop_size) for d in range(num_demes)]
        self._plan_position = 0
        self._plan_told = 0
        self._members: list[list[Individual]] = [[] for _ in range(num_demes)]

    # ------------------------------------------------------------------ read-only views
    @property
    def best(self) -> Individual | None:
        """The best successful ``(point, fom, trial_id)`` told so far."""
        return self._best

    @property
    def demes(self) -> list[list[Individual]]:
        """Each deme's current population, best first (copies)."""
        return [list(deme.members) for deme in self._demes]

    @property
    def evaluations_told(self) -> int:
        return self._told

    def generation(self, deme: int) -> int:
        """How many generations of ``deme`` are complete."""
        if self.mode == "generational":
            return self._generation
        return self._told_in_deme[deme] // self.pop_size

    # ------------------------------------------------------------------ ask
    def _exhausted(self) -> bool:
        return self._asked >= self.budget

    def _ask(self) -> Candidate | None:
        if self._asked >= self.budget:
            return None
        if self.slots is not None and self.outstanding >= self.slots:
            return None
        initial_asks = self.num_demes * self.pop_size
        if self.mode == "generational":
            if self._plan_position >= len(self._plan):
                return None  # the generation barrier
            deme = self._plan[self._plan_position]
            self._plan_position += 1
            initial = self._generation == 0
            generation = self._generation
        else:
            initial = self._asked < initial_asks
            if initial:
                deme = self._asked % self.num_demes
            elif self._freed:
                deme = self._freed.popleft()
            else:
                deme = self._round_robin % self.num_demes
                self._round_robin += 1
            generation = self._asked_in_deme[deme] // self.pop_size
        if initial:
            point, origin, parents = self._initial(deme)
        else:
            point, origin, parents = self._child(deme)
        uid = self._asked
        self._asked += 1
        self._asked_in_deme[deme] += 1
        self._pending[uid] = _Asked(deme, origin)
        info = {
            "strategy": "genetic",
            "uid": uid,
            "deme": deme,
            "generation": generation,
            "parents": parents,
            "origin": origin,
        }
        return Candidate(self.space.fix(point, self.rng), info)

    def _initial(self, deme: int) -> tuple[dict[str, Any], str, list[int]]:
        start = self.space.defaults(self.rng)
        if self._asked_in_deme[deme] == 0 and (deme == 0 or not self._share_baseline):
            return start, "baseline", []
        rate = max(self.mutation_rate, _INITIAL_MUTATION_RATE)
        return self._mutate(start, rate, avoid=[start]), "initial", []

    def _child(self, deme: int) -> tuple[dict[str, Any], str, list[int]]:
        population = self._demes[deme]
        if not population.members:  # nothing of this deme finished yet: mutate the baseline
            start = self.space.defaults(self.rng)
            return self._mutate(start, self.mutation_rate, avoid=[start]), "child", []
        # failed trials are parents only while no trial anywhere has succeeded
        pool = population.finite() or [m for other in self._demes for m in other.finite()]
        pool = pool or list(population.members)
        first = tournament(self.rng, pool, _TOURNAMENT_SIZE)
        second = tournament(self.rng, pool, _TOURNAMENT_SIZE)
        point = crossover(first.point, second.point, self.rng, self.crossover_rate)
        point = self._mutate(point, self.mutation_rate, avoid=[first.point, second.point])
        parents = sorted({first.trial_id, second.trial_id})
        return point, "child", parents

    def _mutate(
        self, point: dict[str, Any], rate: float, avoid: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Mutate ``point``; if its active genes then equal one in ``avoid``, one more."""
        bounds = (self.mul_mutation_bounds, self.add_mutation_bounds)
        child = mutate_point(point, self.space, self.rng, rate, *bounds)
        active = self.space.active(child)
        if any(active == self.space.active(other) for other in avoid) and active:
            child = mutate_point(child, self.space, self.rng, 0.0, *bounds, at_least_one=[*active])
        return child

    # ------------------------------------------------------------------ tell
    def _tell(self, trial: Trial) -> None:
        uid = _uid(trial)
        asked = self._pending.pop(uid, None)
        if asked is None:
            raise ConfigError(
                f"trial {trial.id} was not asked by this GeneticSearch (uid {uid!r}); "
                f"tell each asked candidate exactly once."
            )
        if trial.candidate is not None:
            point = dict(trial.candidate.params)
        else:  # only the active genes are known: fill the others with the defaults
            fill = self.space.defaults()
            point = {flag: trial.params.get(flag, fill[flag]) for flag in self.space.flags}
        individual = Individual(point, trial.fom if trial.ok else math.inf, trial.id)
        self._told += 1
        if individual.ok and (self._best is None or individual.rank() < self._best.rank()):
            self._best = individual
        shared = asked.origin == "baseline" and self._share_baseline
        if self.mode == "generational":
            self._tell_generational(asked.deme, individual, shared)
        else:
            self._tell_steady(asked.deme, individual, shared)

    def _tell_steady(self, deme: int, individual: Individual, shared: bool) -> None:
        for index, population in enumerate(self._demes):
            if index == deme or shared:
                population.add(individual)
        self._told_in_deme[deme] += 1
        self._freed.append(deme)
        if self._told_in_deme[deme] % (self.pop_size * self.migration_interval) == 0:
            self._migrate([deme])

    def _tell_generational(self, deme: int, individual: Individual, shared: bool) -> None:
        for index, members in enumerate(self._members):
            if index == deme or shared:
                members.append(individual)
        self._told_in_deme[deme] += 1
        self._plan_told += 1
        if self._plan_told < len(self._plan):
            return
        for population, members in zip(self._demes, self._members, strict=True):
            population.replace_all(members)
        self._generation += 1
        if self._generation % self.migration_interval == 0:
            self._migrate(list(range(self.num_demes)))
        if self._generation < self.generations:
            self._plan = [d for _ in range(self.pop_size - 1) for d in range(self.num_demes)]
            self._plan_position = 0
            self._plan_told = 0
            # elitism: each deme's best is carried over with its result
            self._members = [[p.best] if p.best is not None else [] for p in self._demes]

    def _migrate(self, sources: list[int]) -> None:
        """Copy the best of each source deme into the next deme, replacing its worst."""
        if self.num_demes < 2:
            return
        migrants = [(d, self._demes[d].best) for d in sources]
        for source, migrant in migrants:
            if migrant is not None:
                target = self._demes[(source + 1) % self.num_demes]
                target.immigrate(migrant._replace(point=dict(migrant.point)))


def _uid(trial: Trial) -> Any:
    info = trial.candidate.info if trial.candidate is not None else trial.info
    return info.get("uid")
