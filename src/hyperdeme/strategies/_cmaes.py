"""CMA-ES (Hansen's covariance matrix adaptation) on the ``cmaes`` package, with restarts.

The space is searched as the unit box (see :mod:`._box`: log ranges in log
space, integers rounded, value lists one-hot). ``cmaes.CMA`` does the
adaptation; this module turns its generation-at-a-time ``ask``/``tell`` into
the engine's trial-at-a-time protocol:

- a generation's ``popsize`` candidates are proposed one by one, so they fill
  the free slots; once all are asked, :meth:`CMAESSearch.propose` returns None
  (a generation barrier) until every one is told;
- results are kept as they come, and the generation is told to CMA when its
  last result arrives, in the generation's own order (not the arrival order), so
  the search depends only on the seed and the results, never on timing;
- a trial stopped early (ASHA) ranks after every completed trial of its
  generation, among the stopped ones by its last intermediate score; a failed
  one is told ``inf`` (last). A generation where all failed moves CMA nowhere;
- when CMA's own stopping tests fire (``should_stop``), the search restarts
  from a random point of the box: ``restarts="ipop"`` doubles the population
  each time (Auger & Hansen 2005), ``"bipop"`` alternates that with small
  populations and step sizes so that both regimes spend about the same
  evaluations (Hansen 2009); None keeps the one run going.

A point seen before (asked or told, see ``_seen``) is not proposed again: CMA
is sampled again (up to 8 times), then a fresh random point is taken and CMA is
told that point's vector. A resumed run is rebuilt exactly by the replay (the
state depends only on the seed and what was told).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._core._checks import count, number, one_of, optional
from .._core._settings import Config, setting
from .._core._trial import Candidate, Status
from ._base import Strategy
from ._box import Box

if TYPE_CHECKING:
    import numpy as np
    from cmaes import CMA

    from .._core._trial import Trial
    from .._space import Params

__all__ = ["CMAESConfig", "CMAESSearch", "Restarts"]

Restarts = Literal["ipop", "bipop"]
#: CMA samples tried for a point not seen before a fresh random point is taken
_RESAMPLES = 8
#: cmaes' seeds are 32-bit
_SEEDS = 2**31


def _restarts(name: str, value: Any) -> str | None:
    """``"ipop"``, ``"bipop"``, or None (``"none"`` too, as TOML has no null)."""
    if value is None or value == "none":
        return None
    checked: str = one_of(("ipop", "bipop", "none"))(name, value)
    return checked


@dataclass(frozen=True, kw_only=True)
class CMAESConfig(Config):
    """CMA-ES's settings."""

    #: evaluations in all
    max_evals: int = setting(100, count(1))
    #: the initial step size, in the unit box (each range spans 1); None: 1/6, as Optuna's
    sigma0: float | None = setting(None, optional(number(0.0, above=True)))
    #: candidates per generation; None: CMA's default 4 + floor(3 ln d) for d coordinates
    popsize: int | None = setting(None, optional(count(2)))
    #: how to restart when CMA converges: "ipop", "bipop", or None (never)
    restarts: Restarts | None = setting("ipop", _restarts)

    def strategy(self, space: Params, *, seed: int | None = None) -> CMAESSearch:
        return CMAESSearch(space, self, seed=seed)


@dataclass(slots=True)
class _Generation:
    """One CMA generation: the vectors asked, by index, and the results told."""

    vectors: list[np.ndarray]
    size: int
    told: dict[int, tuple[Status, float]]

    @property
    def full(self) -> bool:
        return len(self.vectors) >= self.size

    @property
    def done(self) -> bool:
        return len(self.told) >= self.size


class CMAESSearch(Strategy):
    """``max_evals`` evaluations proposed by CMA-ES (see the module docstring)."""

    def __init__(
        self, space: Params, config: CMAESConfig | None = None, *, seed: int | None = None
    ) -> None:
        super().__init__(space, seed=seed)
        self.config = config or CMAESConfig()
        self.box = Box(space)
        self.asked = 0
        #: CMA runs started (1 + restarts)
        self.runs = 0
        self._cma: CMA | None = None
        self._generation: _Generation | None = None
        self._where: dict[int, int] = {}  # trial id -> index in the current generation
        self._none_left = False
        # BIPOP's bookkeeping: evaluations spent in each regime, and the large regime's count
        self._spent = {"large": 0, "small": 0}
        self._large_runs = 0
        self._regime = "large"

    @property
    def budget(self) -> int:
        return self.config.max_evals

    @property
    def budget_settings(self) -> tuple[str, ...]:
        return ("max_evals",)

    @property
    def generation_size(self) -> int | None:
        return None if self._cma is None else self._cma.population_size

    def exhausted(self) -> bool:
        return self.asked >= self.config.max_evals or self._none_left or self.seen.complete

    def propose(self, trial_id: int) -> Candidate | None:
        if self.exhausted():
            return None
        if self._generation is None:
            self._start_generation()
        generation = self._generation
        assert generation is not None
        assert self._cma is not None
        if generation.full:
            return None  # wait for the generation's results
        found = self._sample(self._cma)
        if found is None:
            self._none_left = True
            return None
        point, vector = found
        self._where[trial_id] = len(generation.vectors)
        generation.vectors.append(vector)
        self.asked += 1
        info = {"strategy": "cmaes", "run": self.runs, "generation": self._cma.generation}
        return Candidate(point, info)

    def _sample(self, cma: CMA) -> tuple[dict[str, Any], np.ndarray] | None:
        for _ in range(_RESAMPLES):
            vector = cma.ask()
            point = self.box.decode(vector, self.rng)
            if point not in self.seen:
                return point, vector
        fresh = self.seen.fresh(
            lambda: self.space.fix(self.space.sample(self.rng), self.rng), self.rng
        )
        if fresh is None:
            return None
        return fresh, self.box.encode(fresh)

    def observe(self, trial: Trial) -> None:
        generation = self._generation
        index = self._where.pop(trial.id, None)
        if generation is None or index is None:
            return  # not of this generation (cannot happen: a generation waits for all)
        generation.told[index] = (trial.status, trial.fom)
        if generation.full and generation.done:
            self._tell(generation)

    def _tell(self, generation: _Generation) -> None:
        assert self._cma is not None
        values = _values([generation.told[i] for i in range(generation.size)])
        self._cma.tell(list(zip(generation.vectors, values, strict=True)))
        self._spent[self._regime] += generation.size
        self._generation = None
        if self.config.restarts is not None and self._cma.should_stop():
            self._cma = None  # the next generation starts a new run

    def _start_generation(self) -> None:
        if self._cma is None:
            self._cma = self._new_run()
        size = self._cma.population_size
        self._generation = _Generation(vectors=[], size=size, told={})

    def _new_run(self) -> CMA:
        import numpy as np
        from cmaes import CMA  # where needed: import hyperdeme never loads it

        dim = self.box.dim
        default_size = 4 + math.floor(3 * math.log(dim))
        base_size = self.config.popsize or default_size
        sigma = self.config.sigma0 or 1 / 6
        if self.runs == 0:
            mean = np.full(dim, 0.5)
            size = base_size
        else:
            mean = self.rng.uniform(0.0, 1.0, dim)
            size, sigma = self._restart_size(base_size, sigma)
        self.runs += 1
        bounds = np.array([[0.0, 1.0]] * dim)
        return CMA(
            mean=mean,
            sigma=sigma,
            bounds=bounds,
            seed=int(self.rng.integers(_SEEDS)),
            population_size=size,
        )

    def _restart_size(self, base_size: int, sigma: float) -> tuple[int, float]:
        """The population and step size of a restart (IPOP, or BIPOP's two regimes)."""
        if self.config.restarts == "ipop" or self._spent["small"] >= self._spent["large"]:
            self._regime = "large"
            self._large_runs += 1
            return base_size * 2**self._large_runs, sigma
        self._regime = "small"
        u = float(self.rng.uniform())
        large = base_size * 2**self._large_runs
        size = max(2, math.floor(base_size * (0.5 * large / base_size) ** (u * u)))
        return size, sigma * 10 ** (-2 * float(self.rng.uniform()))


def _values(results: list[tuple[Status, float]]) -> list[float]:
    """What CMA is told for each result (lower is better): a completed trial its score;
    a stopped one ranks after every completed one, in the order of its last score; a
    failed one ``inf``."""
    completed = [fom for status, fom in results if status is Status.OK and math.isfinite(fom)]
    stopped = sorted(
        fom for status, fom in results if status is Status.STOPPED and math.isfinite(fom)
    )
    worst = max(completed, default=None)
    values = []
    for status, fom in results:
        if status is Status.OK and math.isfinite(fom):
            values.append(fom)
        elif status is Status.STOPPED and math.isfinite(fom):
            values.append(fom if worst is None else worst + 1.0 + stopped.index(fom))
        else:
            values.append(math.inf)
    return values
