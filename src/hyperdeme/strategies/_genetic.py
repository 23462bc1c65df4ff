"""Genetic search over several demes (island model): crayai's settings, operators and
adaptation that pay off within a few hundred evaluations.

**Size.** ``num_demes`` demes of at most ``pop_size`` individuals each, kept best
first, run ``generations`` generations (crayai's 4, 64 and 1,000 when not
given). ``max_evals=N`` stops the run after ``N`` evaluations and chooses what
is not given for that budget (``_sizing``): 1 deme below 1,000 evaluations, 2
below 8,000, 4 from there; ``pop_size = sqrt(N / num_demes) / 2.5`` within
[8, 64]; and the fewest generations that cover ``N``. So ``max_evals=400`` is
1 deme of 8; ``max_evals=256_000`` is crayai's 4 x 64 x 1,000.

**Initial population.** Each deme starts from the baseline (the defaults) and
mutants of it; parameters without a default are drawn uniformly for each
initial individual. The initial mutants use a mutation rate of
``max(mutation_rate, 0.5)`` at crayai's step sizes (30 % of them jump, as
children do) and change at least one active gene. When every parameter has a
default, the baseline is evaluated once (deme 0) and its result joins every
deme; otherwise each deme evaluates its own partly random "baseline".

**A child** has two parents from its deme. The first wins a tournament among
``pop_size`` members drawn with replacement (the deme's best about 63 % of the
time): at small budgets exploiting the best pays, and the population still
supplies the second parent, a tournament of 2, so crossover brings in other
genes. Crossover is uniform: each gene from the second parent with probability
``crossover_rate``. Each gene then mutates with probability ``mutation_rate``
(see ``_mutation``): a *local move* of crayai's kind (multiplicative within
``mul_mutation_bounds`` for ranges that keep one sign, additive within
``add_mutation_bounds`` of the range, log space for log ranges, a nearby index
for value lists), its size multiplied by the deme's *step scale*; in a *jump
child* (30 % of children, ``_adaptation.JUMP_RATE``) one of the mutated genes
is instead redrawn from its whole domain, the long move that leaves a local
basin. A child whose active parameters equal a
parent's gets one active gene mutated, so no evaluation is spent on a copy;
a child (or initial individual) equal to any point already asked or told
(``_seen``) has one active gene mutated again, up to 8 times, and is then
replaced by a random point not seen; a local child that had to be redrawn so
counts as an unsuccessful step for the step-size adaptation. On a finite space
the search ends once every point was asked.
Parents are the finite individuals of the deme, else of any deme; a failed
trial is a parent only when no trial has succeeded yet. A child of a deme none
of whose trials has finished is a mutant of the baseline. Every point is
repaired with ``space.fix`` and keeps the genes of inactive parameters.

**Adaptation** (``_adaptation``), per deme, from each told local child: it
succeeded if it beat its first parent. The step scale follows the 1/5 success
rule: it starts at 1 (crayai's sizes), grows while more than one local child
in five succeeds and shrinks while fewer do. crayai's fixed steps are too
coarse to finish descending a basin and too timid to cross a wide slope,
whatever the budget. The jump rate is constant: matched to the jumps' success
it starved them once a basin was being refined (local children succeed one
time in five by construction), and runs stalled there.

Uniform crossover was kept over blend and SBX crossover: it moves a selected
value whole, where blending lands between two good values; neither did better
on the benchmarks of ``benchmarks/README.md`` ("Genetic search at small
budgets"): equal within the noise on Rastrigin, Sphere and Ackley, worse on
Rosenbrock.

Two modes:

``"steady"`` (default)
    No generation barrier. The first ``pop_size`` asks of each deme, made
    round-robin, are its initial population. Every told trial joins its deme
    (added while the deme is below ``pop_size``, afterwards replacing the worst
    if strictly better) at once, adapts its deme, and owes its deme a child:
    children are asked for the demes in the order their trials finished
    (round-robin when none is owed). With at least ``num_demes * pop_size``
    slots a freed slot gets a child of the deme that just finished; with fewer,
    each deme keeps ``pop_size`` evaluations running or owed, so no deme
    starves. A deme's generation is ``pop_size`` of its evaluations told; each
    ``migration_interval`` generations its best is copied into the next deme
    (a ring), replacing the worst. Budget: ``generations * num_demes *
    pop_size`` evaluations, ``generations * pop_size`` a deme at most: once a
    deme has had its generations, a child it is owed goes to the deme furthest
    behind, so no trial's generation reaches ``generations``.

``"generational"``
    crayai's synchronous generations: ``pop_size`` candidates per deme, then
    ``ask`` returns None until all are told. The next generation keeps each
    deme's best with its result (not evaluated again) plus ``pop_size - 1``
    children; migration happens between generations. Budget:
    ``num_demes * (pop_size + (generations - 1) * (pop_size - 1))``.

With ``inherit_checkpoints`` (crayai's PBT mode: the GeneticOptimizer sets it
when the Evaluator has ``checkpoint`` and the command ``@checkpoint``) each
candidate carries a checkpoint plan: a child continues the weights its fitter
parent's own evaluation wrote, ``gens_per_epoch`` generations per epoch of
training (see ``_inheritance``); its parents are then drawn among the members
of earlier generations only (in steady mode, a sibling of its own generation
that finished first is not a parent). Without it ``gens_per_epoch`` does
nothing and selection is as above.

**Several objectives** (``Evaluator(objectives=...)``: each told trial carries
their scores in ``trial.objectives``). Selection is NSGA-II's inside each deme
(``_deme``): members are ranked by non-dominated front, then by crowding
distance (the most isolated first); a newcomer joins and the worst by that
rank leaves (steady-state, as each result comes; generational mode keeps the
best ``pop_size`` by it); tournaments compare that rank within the parents'
pool. A local child succeeds (the 1/5 rule) when its scores dominate its first
parent's. Migration copies a deme's first-ranked member (an extreme of its
front). ``best`` still ranks by the first objective. Everything else
(operators, sizing, budget, replay) is as with one FoM.

With ``max_evals`` the budget is the smaller of that and ``max_evals``. The
same seed gives the same candidates for the same order of ``tell`` calls.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._core._checks import boolean, count, numbers_sequence, one_of, optional, rate
from .._core._errors import ConfigError
from .._core._pareto import dominates
from .._core._settings import UNSET, Config, setting
from .._core._trial import Candidate
from ._adaptation import JUMP_RATE, Adaptation
from ._base import Strategy
from ._deme import Deme, Individual, selection_key, tournament
from ._inheritance import Inheritance
from ._mutation import Bounds, crossover, mutate_point, unseen_point
from ._sizing import CRAYAI, sized_for

if TYPE_CHECKING:
    from .._core._trial import Trial
    from .._space import Params

__all__ = ["GeneticConfig", "GeneticSearch"]

Mode = Literal["steady", "generational"]
_INITIAL_MUTATION_RATE = 0.5
#: the crossover partner's tournament: mild, so the partner brings other genes
_PARTNER_TOURNAMENT = 2
#: the default of a sizing setting: crayai's value, or the one chosen for max_evals
_CHOSEN: Any = UNSET
#: the most members (num_demes * pop_size) a search holds: each is kept in memory, and
#: 10**26 of them hung the construction (a hostile-values probe, issue 18)
MAX_MEMBERS = 10**7


def _bounds(name: str, value: Any) -> Bounds:
    small, low, high = numbers_sequence(3)(name, value)
    if not 0.0 <= small <= low <= high:
        raise ConfigError(
            f"{name} must be 3 increasing numbers >= 0, got {value!r}.", name=name, value=value
        )
    return (small, low, high)


@dataclass(frozen=True, kw_only=True)
class GeneticConfig(Config):
    """The genetic search's settings: crayai's names and defaults, plus ``mode`` and
    ``max_evals``.

    ``generations``, ``num_demes`` and ``pop_size`` not given are crayai's (1000,
    4, 64), or, with ``max_evals``, chosen for that budget; a value given is
    always kept, and the others are chosen around it (``max_evals=1000,
    num_demes=4`` sizes 4 demes for 250 evaluations each). After construction
    they hold the values in use. See the module docstring for the rest.
    """

    #: generations per deme (crayai's 1000; with max_evals, chosen for it)
    generations: int = setting(_CHOSEN, count(1))
    #: demes (islands) searched side by side (crayai's 4; with max_evals, chosen)
    num_demes: int = setting(_CHOSEN, count(1))
    #: individuals per deme (crayai's 64; with max_evals, chosen)
    pop_size: int = setting(_CHOSEN, count(2))
    #: probability that each gene of a child mutates
    mutation_rate: float = setting(0.05, rate)
    #: probability that each gene comes from the second parent
    crossover_rate: float = setting(0.33, rate)
    #: each this many generations a deme's best is copied into the next deme (a ring)
    migration_interval: int = setting(5, count(1))
    #: multiplicative mutation: (small_high, large_low, large_high): u ~ U(0, small_high) or
    #: U(large_low, large_high), the relative step
    mul_mutation_bounds: Bounds = setting((0.01, 0.1, 0.2), _bounds)
    #: additive mutation: the same three bounds, as fractions of the range
    add_mutation_bounds: Bounds = setting((0.03, 0.03, 0.13), _bounds)
    #: ``steady`` (a child per finished trial) or ``generational`` (crayai's)
    mode: Mode = setting("steady", one_of(("steady", "generational")))
    #: children continue their fitter parent's checkpoint (crayai's PBT)
    inherit_checkpoints: bool = setting(False, boolean)
    #: generations that share one training epoch (with inherit_checkpoints)
    gens_per_epoch: int = setting(1, count(1))
    #: stop after this many evaluations; sizes the demes when they are not given
    max_evals: int | None = setting(None, optional(count(1)))

    def _validate(self) -> None:
        given = {
            name: value
            for name in ("num_demes", "pop_size", "generations")
            if (value := getattr(self, name)) is not UNSET
        }
        if self.max_evals is None:
            chosen = CRAYAI._replace(**given)
        else:
            chosen = sized_for(self.max_evals, mode=self.mode, **given)
        for name, value in chosen._asdict().items():
            object.__setattr__(self, name, value)
        members = self.num_demes * self.pop_size
        if members > MAX_MEMBERS:  # each member is held in memory: a typo, not a search
            raise ConfigError(
                f"num_demes * pop_size must be at most {MAX_MEMBERS:,} members, got "
                f"{str(members)[:20]}{'...' if len(str(members)) > 20 else ''} "
                f"(num_demes={str(self.num_demes)[:20]}, pop_size={str(self.pop_size)[:20]}).",
                name="pop_size" if self.pop_size > self.num_demes else "num_demes",
                value=self.pop_size if self.pop_size > self.num_demes else self.num_demes,
            )

    @property
    def budget(self) -> int:
        """Evaluations in all (see the module docstring)."""
        if self.mode == "steady":
            planned = self.generations * self.num_demes * self.pop_size
        else:
            generation = self.num_demes * (self.pop_size - 1)
            planned = self.num_demes * self.pop_size + (self.generations - 1) * generation
        return planned if self.max_evals is None else min(planned, self.max_evals)

    def strategy(self, space: Params, *, seed: int | None = None) -> GeneticSearch:
        return GeneticSearch(space, self, seed=seed)


@dataclass(frozen=True, slots=True)
class _Asked:
    deme: int
    origin: str
    #: the first parent's result, which the child must beat to count as a success
    reference: float | None = None
    jump: bool = False
    #: with several objectives: the first parent's scores, which the child must dominate
    reference_scores: tuple[float, ...] = ()


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
        self._adaptation = [Adaptation() for _ in range(config.num_demes)]
        #: the first parent's tournament: the deme's best most of the time
        self._tournament = config.pop_size
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
        self._inheritance = (
            Inheritance(config.gens_per_epoch) if config.inherit_checkpoints else None
        )
        #: with inherit_checkpoints: each trial's generation, which parents must precede
        self._born: dict[int, int] = {}
        self._none_left = False  # no point left that was not seen

    @property
    def budget(self) -> int:
        return self.config.budget

    @property
    def budget_settings(self) -> tuple[str, ...]:
        return ("max_evals", "generations")

    @property
    def generation_size(self) -> int:
        """Every deme's population once."""
        return self.config.num_demes * self.config.pop_size

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

    @property
    def scales(self) -> list[float]:
        """Each deme's step scale (1: crayai's step sizes; see ``_adaptation``)."""
        return [adaptation.scale for adaptation in self._adaptation]

    def generation(self, deme: int) -> int:
        """How many generations of ``deme`` are complete."""
        if self.mode == "generational":
            return self._generation
        return self._told_in_deme[deme] // self.pop_size

    # ------------------------------------------------------------------ ask
    def exhausted(self) -> bool:
        return self._asked >= self.budget or self._none_left or self.seen.complete

    def propose(self, trial_id: int) -> Candidate | None:
        if self.exhausted():
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
            if self._asked_in_deme[deme] >= self.generations * self.pop_size:
                # this deme has had its generations: the deme furthest behind gets the slot
                deme = min(range(self.num_demes), key=self._asked_in_deme.__getitem__)
            generation = self._asked_in_deme[deme] // self.pop_size
        scale = self._adaptation[deme].scale
        jump = bool(self.rng.random() < JUMP_RATE)
        parent = None
        if initial:
            point, origin, parents = self._initial(deme, jump)
        else:
            point, parents, parent = self._child(deme, scale, jump, generation)
            origin = "child"
        reference = None if parent is None else parent.fom
        bounds = (self.config.mul_mutation_bounds, self.config.add_mutation_bounds)
        point = self.space.fix(point, self.rng)
        unseen = unseen_point(point, self.seen, self.rng, *bounds, scale=scale)
        if unseen is None:  # no point left that was not seen: the search ends
            self._none_left = True
            return None
        if unseen is not point and reference is not None and not jump:
            # a local step that landed on a seen point failed (the 1/5 rule): its repeat
            # used to be told as no better than its parent, and the steps shrank with it
            self._adaptation[deme].record(False)
        self._asked += 1
        self._asked_in_deme[deme] += 1
        scores = () if parent is None else parent.scores
        self._pending[trial_id] = _Asked(deme, origin, reference, jump, scores)
        info = {
            "strategy": "genetic",
            "deme": deme,
            "generation": generation,
            "parents": parents,
            "origin": origin,
            "scale": round(scale, 6),
            "jump": jump,
        }
        plan = None
        if self._inheritance is not None:
            self._born[trial_id] = generation
            plan = self._inheritance.plan(trial_id, generation, parents)
            info["epoch"] = self._inheritance.epoch(generation)
        return Candidate(unseen, info, checkpoint=plan)

    def _initial(self, deme: int, jump: bool) -> tuple[dict[str, Any], str, list[int]]:
        start = self.space.defaults(self.rng)
        if self._asked_in_deme[deme] == 0 and (deme == 0 or not self._share_baseline):
            return start, "baseline", []
        rate = max(self.config.mutation_rate, _INITIAL_MUTATION_RATE)
        return self._mutate(start, rate, 1.0, jump, avoid=[start]), "initial", []

    def _child(
        self, deme: int, scale: float, jump: bool, generation: int
    ) -> tuple[dict[str, Any], list[int], Individual | None]:
        """A child of ``deme``, its parents' ids and its first parent (None: a mutant of
        the baseline). Several objectives: tournaments compare NSGA-II ranks."""
        population = self._demes[deme]
        rate = self.config.mutation_rate
        if not population.members:  # nothing of this deme finished yet: mutate the baseline
            start = self.space.defaults(self.rng)
            return self._mutate(start, rate, scale, jump, avoid=[start]), [], None
        pool = self._parents_pool(population, generation)
        key = selection_key(pool)
        first = tournament(self.rng, pool, self._tournament, key)
        second = tournament(self.rng, pool, _PARTNER_TOURNAMENT, key)
        point = crossover(first.point, second.point, self.rng, self.config.crossover_rate)
        point = self._mutate(point, rate, scale, jump, avoid=[first.point, second.point])
        parents = sorted({first.trial_id, second.trial_id})
        return point, parents, first

    def _parents_pool(self, population: Deme, generation: int) -> list[Individual]:
        """Who may parent a child of ``generation``: the deme's successful members, else any
        deme's; failed trials only while no trial anywhere has succeeded. With
        checkpoints, members of earlier generations first (see ``_inheritance``)."""
        everywhere = [m for other in self._demes for m in other.finite()]
        pools = [population.finite(), everywhere, list(population.members)]
        if self._inheritance is not None:
            born = self._born
            pools[:0] = [[m for m in pool if born[m.trial_id] < generation] for pool in pools[:2]]
        return next((pool for pool in pools if pool), [])

    def _mutate(
        self,
        point: dict[str, Any],
        rate: float,
        scale: float,
        jump: bool,
        avoid: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """Mutate ``point``; if its active genes then equal one in ``avoid``, one more."""
        bounds = (self.config.mul_mutation_bounds, self.config.add_mutation_bounds)
        child = mutate_point(point, self.space, self.rng, rate, *bounds, scale=scale, jump=jump)
        active = self.space.active(child)
        if any(active == self.space.active(other) for other in avoid) and active:
            child = mutate_point(
                child,
                self.space,
                self.rng,
                0.0,
                *bounds,
                scale=scale,
                jump=jump,
                at_least_one=[*active],
            )
        return child

    # ------------------------------------------------------------------ tell
    def observe(self, trial: Trial) -> None:
        asked = self._pending.pop(trial.id)
        if self._inheritance is not None:
            self._inheritance.told(trial)
        if trial.candidate is not None:
            point = dict(trial.candidate.params)
        else:  # only the active genes are known: fill the others with the defaults
            fill = self.space.defaults()
            point = {flag: trial.params.get(flag, fill[flag]) for flag in self.space.flags}
        several = trial.has_fom and len(trial.objectives) > 1
        scores = tuple(trial.objectives.values()) if several else ()
        individual = Individual(point, trial.fom if trial.has_fom else math.inf, trial.id, scores)
        self._told += 1
        if individual.ok and (self._best is None or individual.rank() < self._best.rank()):
            self._best = individual
        if asked.reference is not None and not asked.jump:
            self._adaptation[asked.deme].record(_succeeded(individual, asked))
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

    def released_checkpoints(self) -> list[str]:
        if self._inheritance is None:
            return []
        members = [m.trial_id for deme in self._demes for m in deme.members]
        members += [m.trial_id for generation in self._members for m in generation]
        return self._inheritance.released(members)

    def _migrate(self, sources: list[int]) -> None:
        """Copy the best of each source deme into the next deme, replacing its worst."""
        if self.num_demes < 2:
            return
        migrants = [(d, self._demes[d].best) for d in sources]
        for source, migrant in migrants:
            if migrant is not None:
                target = self._demes[(source + 1) % self.num_demes]
                target.immigrate(migrant._replace(point=dict(migrant.point)))


def _succeeded(child: Individual, asked: _Asked) -> bool:
    """Whether a local child beat its first parent (the 1/5 rule's success): a lower
    FoM, or with several objectives, scores that dominate the parent's."""
    if not child.ok or asked.reference is None:
        return False
    if child.scores and len(asked.reference_scores) == len(child.scores):
        return dominates(child.scores, asked.reference_scores)
    return child.fom < asked.reference
