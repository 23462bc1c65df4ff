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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._core._checks import count, numbers_sequence, one_of, rate
from .._core._config import Config, setting
from .._core._errors import ConfigError
from .._core._trial import Candidate
from ._base import Strategy
from ._deme import Deme, Individual, tournament
from ._mutation import Bounds, crossover, mutate_point

if TYPE_CHECKING:
    from .._core._trial import Trial
    from .._space import Params

__all__ = ["GeneticConfig", "GeneticSearch"]

Mode = Literal["steady", "generational"]
_TOURNAMENT_SIZE = 2
_INITIAL_MUTATION_RATE = 0.5


def _bounds(name: str, value: Any) -> Bounds:
    small, low, high = numbers_sequence(3)(name, value)
    if not 0.0 <= small <= low <= high:
        raise ConfigError(f"{name} must be 3 increasing numbers >= 0, got {value!r}.")
    return (small, low, high)


@dataclass(frozen=True, kw_only=True)
class GeneticConfig(Config):
    """The genetic search's settings: crayai's names and defaults, plus ``mode``.

    See the module docstring for what each one does.
    """

    generations: int = setting(1000, count(1))
    num_demes: int = setting(4, count(1))
    pop_size: int = setting(64, count(2))
    mutation_rate: float = setting(0.05, rate)
    crossover_rate: float = setting(0.33, rate)
    migration_interval: int = setting(5, count(1))
    mul_mutation_bounds: Bounds = setting((0.01, 0.1, 0.2), _bounds)
    add_mutation_bounds: Bounds = setting((0.03, 0.03, 0.13), _bounds)
    mode: Mode = setting("steady", one_of(("steady", "generational")))

    @property
    def budget(self) -> int:
        """Evaluations in all (see the module docstring)."""
        if self.mode == "steady":
            return self.generations * self.num_demes * self.pop_size
        return self.num_demes * (self.pop_size + (self.generations - 1) * (self.pop_size - 1))

    def strategy(self, space: Params, *, seed: int | None = None) -> GeneticSearch:
        return GeneticSearch(space, self, seed=seed)


@dataclass(frozen=True, slots=True)
class _Asked:
    deme: int
    origin: str


class GeneticSearch(Strategy):
    """Island-model genetic algorithm; see the module docstring."""

    def __init__(
        self, space: Params, config: GeneticConfig | None = None, *, seed: int | None = None
    ) -> None:
        super().__init__(space, seed=seed)
        self.config = config = config or GeneticConfig()
        self.generations = config.generations
        self.num_demes = config.num_demes
        self.pop_size = config.pop_size
        self.mode: Mode = config.mode
        self._share_baseline = space.has_all_defaults
        self._demes = [Deme(config.pop_size) for _ in range(config.num_demes)]
        self._asked = 0
        self._asked_in_deme = [0] * config.num_demes
        self._told_in_deme = [0] * config.num_demes
        self._told = 0
        self._pending: dict[int, _Asked] = {}
        self._best: Individual | None = None
        # steady: demes whose trials finished, oldest first; round-robin fallback
        self._freed: deque[int] = deque()
        self._round_robin = 0
        # generational: the current generation's plan of demes and its results
        self._generation = 0
        self._plan = [d for _ in range(config.pop_size) for d in range(config.num_demes)]
        self._plan_position = 0
        self._plan_told = 0
        self._members: list[list[Individual]] = [[] for _ in range(config.num_demes)]

    @property
    def budget(self) -> int:
        return self.config.budget

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

    def _ask(self, trial_id: int) -> Candidate | None:
        if self._asked >= self.budget:
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
        self._asked += 1
        self._asked_in_deme[deme] += 1
        self._pending[trial_id] = _Asked(deme, origin)
        info = {
            "strategy": "genetic",
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
        rate = max(self.config.mutation_rate, _INITIAL_MUTATION_RATE)
        return self._mutate(start, rate, avoid=[start]), "initial", []

    def _child(self, deme: int) -> tuple[dict[str, Any], str, list[int]]:
        population = self._demes[deme]
        if not population.members:  # nothing of this deme finished yet: mutate the baseline
            start = self.space.defaults(self.rng)
            return self._mutate(start, self.config.mutation_rate, avoid=[start]), "child", []
        # failed trials are parents only while no trial anywhere has succeeded
        pool = population.finite() or [m for other in self._demes for m in other.finite()]
        pool = pool or list(population.members)
        first = tournament(self.rng, pool, _TOURNAMENT_SIZE)
        second = tournament(self.rng, pool, _TOURNAMENT_SIZE)
        point = crossover(first.point, second.point, self.rng, self.config.crossover_rate)
        point = self._mutate(point, self.config.mutation_rate, avoid=[first.point, second.point])
        parents = sorted({first.trial_id, second.trial_id})
        return point, "child", parents

    def _mutate(
        self, point: dict[str, Any], rate: float, avoid: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Mutate ``point``; if its active genes then equal one in ``avoid``, one more."""
        bounds = (self.config.mul_mutation_bounds, self.config.add_mutation_bounds)
        child = mutate_point(point, self.space, self.rng, rate, *bounds)
        active = self.space.active(child)
        if any(active == self.space.active(other) for other in avoid) and active:
            child = mutate_point(child, self.space, self.rng, 0.0, *bounds, at_least_one=[*active])
        return child

    # ------------------------------------------------------------------ tell
    def _tell(self, trial: Trial) -> None:
        asked = self._pending.pop(trial.id)
        if trial.candidate is not None:
            point = dict(trial.candidate.params)
        else:  # only the active genes are known: fill the others with the defaults
            fill = self.space.defaults()
            point = {flag: trial.params.get(flag, fill[flag]) for flag in self.space.flags}
        individual = Individual(point, trial.fom if trial.has_fom else math.inf, trial.id)
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
        if self._told_in_deme[deme] % (self.pop_size * self.config.migration_interval) == 0:
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
        if self._generation % self.config.migration_interval == 0:
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
