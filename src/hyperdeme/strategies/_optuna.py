"""Any Optuna sampler as a strategy, through Optuna's ask-and-tell interface.

Each :class:`OptunaSearch` keeps a fresh in-memory study with a copy of the
sampler as it was given (so a resumed run, whose journal is replayed into a new
strategy, starts the sampler from the same state and continues exactly; give
the sampler a ``seed``, or name it, which seeds it from the run's seed).

- ``propose``: ``study.ask()``, then each parameter suggested in the space's
  dependency order, only when its conditions hold (define-by-run); an inactive
  parameter gets its default (or a draw) and the sampler never hears of it. A
  range is a ``FloatDistribution``/``IntDistribution`` (``log`` kept); a value
  list a ``CategoricalDistribution`` of the values' indices (Optuna's choices
  must be plain scalars; the values may be any JSON). A value a
  forbidden-value condition rules out is redrawn (:meth:`Params.fix`); the
  sampler keeps what it suggested.
- ``observe``: ``study.tell``: a completed trial its score (lower is better:
  the study minimises, :func:`study_directions`), one stopped early
  ``PRUNED`` (with its intermediate scores reported first), any other
  ``FAIL``.
- several objectives (``objectives``, the evaluator's names in its order,
  which :class:`~hyperdeme.OptunaOptimizer` fills in): the study minimises
  each one's score (a maximised objective is told negated, as every strategy
  hears it: :func:`~hyperdeme._core._direction.scored`), a completed trial is
  told the list of its scores, and a trial stopped early is told ``PRUNED``
  without its intermediate scores: Optuna refuses ``report()`` in a
  multi-objective study, and ``PRUNED`` (rather than ``FAIL``) keeps the
  trial what it is, a point the search gave up on, which NSGA-II and TPE
  leave out of their populations either way. An "ok" trial missing one of
  its objectives is told ``FAIL``.
- a suggestion seen before (see ``_seen``) is not run again: the Optuna trial
  is told the earlier result (or FAIL while that one still runs) and the study
  asked again, up to 8 times; then a fresh random point is enqueued.

Optuna is an optional extra (``pip install hyperdeme[optuna]``), imported when
a search starts, never by ``import hyperdeme``; :func:`require_optuna` is the
check the optimizer makes before any evaluation.
"""

from __future__ import annotations

import copy
import math
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .._core._checks import count, text
from .._core._errors import ConfigError
from .._core._settings import Config, setting
from .._core._trial import Candidate, Status
from .._space import Range, point_key, same_value
from ._base import Strategy

if TYPE_CHECKING:
    from collections.abc import Hashable

    import optuna

    from .._core._trial import Trial
    from .._space import Params

__all__ = ["SAMPLERS", "OptunaConfig", "OptunaSearch", "require_optuna", "study_directions"]

#: the samplers named by a string (the TOML's ``sampler = "tpe"``), by Optuna class
SAMPLERS = {
    "tpe": "TPESampler",
    "cmaes": "CmaEsSampler",
    "gp": "GPSampler",
    "qmc": "QMCSampler",
    "random": "RandomSampler",
    "nsga2": "NSGAIISampler",
}
#: suggestions of points seen before tried before a fresh random point is enqueued
_RESUGGESTS = 8
_SEEDS = 2**31


def require_optuna(what: str) -> None:
    """Raise ConfigError if Optuna cannot be imported, saying how to install it."""
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"{what} needs Optuna, which is not installed; install it with "
            "pip install 'hyperdeme[optuna]' (or pip install optuna).",
            name="sampler",
            value=what,
        ) from None


def study_directions(objectives: int = 1) -> list[Literal["minimize", "maximize"]]:
    """The study's directions: strategies are told scores (lower is better), so each
    objective is minimised. The one place a multi-objective search extends."""
    return ["minimize"] * objectives


def sampler_name(sampler: object) -> str:
    """How a sampler is recorded: its name when given by name, else its class."""
    if isinstance(sampler, str):
        return sampler
    cls = type(sampler)
    return f"{cls.__module__}.{cls.__qualname__}"


def _names(name: str, value: Any) -> tuple[str, ...]:
    """``value`` as a tuple of distinct non-empty strings, or a ConfigError."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError(
            f"{name} must be a list of the objectives' names, got {value!r}.",
            name=name,
            value=value,
        )
    names = tuple(text(name, item) for item in value)
    if len(set(names)) != len(names) or not all(names):
        raise ConfigError(
            f"{name} must name each objective once, with a non-empty name; got {value!r}.",
            name=name,
            value=value,
        )
    return names


@dataclass(frozen=True, kw_only=True)
class OptunaConfig(Config):
    """OptunaSearch's recorded settings (the sampler by name; its object is kept apart)."""

    #: a name of :data:`SAMPLERS`, or the qualified class name of a sampler object
    sampler: str = setting("tpe", text)
    #: evaluations in all
    max_evals: int = setting(100, count(1))
    #: the objectives' names, in the evaluator's order (empty: one FoM); the study
    #: has one direction per name. Recorded, so a changed set is refused on resume
    objectives: tuple[str, ...] = setting((), _names)


def make_sampler(name: str, seed: int) -> Any:
    """The Optuna sampler called ``name`` (a key of :data:`SAMPLERS`), seeded."""
    import optuna

    cls = getattr(optuna.samplers, SAMPLERS[name])
    with warnings.catch_warnings():  # named by the user: "experimental" (QMC, GP) is known
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return cls(seed=seed)


class OptunaSearch(Strategy):
    """``max_evals`` evaluations proposed by an Optuna sampler (see the module docstring).

    ``sampler`` is an Optuna sampler object (copied) or a name of :data:`SAMPLERS`,
    then seeded from this strategy's seed.
    """

    def __init__(
        self,
        space: Params,
        *,
        sampler: Any = "tpe",
        max_evals: int = 100,
        objectives: Sequence[str] = (),
        seed: int | None = None,
    ) -> None:
        super().__init__(space, seed=seed)
        require_optuna(sampler_name(sampler))
        self.config = OptunaConfig(
            sampler=sampler_name(sampler), max_evals=max_evals, objectives=tuple(objectives)
        )
        if len(objectives) > 1:
            _check_multi_objective(sampler)
        self._given = sampler
        self._study: optuna.Study | None = None
        self._running: dict[int, optuna.trial.Trial] = {}
        # point key -> its score(s), told again when suggested again (None: FAIL)
        self._results: dict[Hashable, float | list[float] | None] = {}
        self.asked = 0

    @property
    def budget(self) -> int:
        return self.config.max_evals

    @property
    def budget_settings(self) -> tuple[str, ...]:
        return ("max_evals",)

    def exhausted(self) -> bool:
        return self.asked >= self.config.max_evals or self.seen.complete

    def describe(self) -> dict[str, Any]:
        """As recorded: ``objectives`` only when there are some, so a journal of a single
        FoM, written before the setting existed, resumes."""
        described = super().describe()
        if not self.config.objectives:
            described["settings"].pop("objectives", None)
        return described

    @property
    def study(self) -> optuna.Study:
        if self._study is None:
            import optuna

            optuna.logging.set_verbosity(optuna.logging.WARNING)
            if isinstance(self._given, str):
                sampler = make_sampler(self._given, int(self.rng.integers(_SEEDS)))
            else:
                sampler = fresh_copy(self._given)
            directions = study_directions(max(1, len(self.config.objectives)))
            self._study = optuna.create_study(directions=directions, sampler=sampler)
        return self._study

    def propose(self, trial_id: int) -> Candidate | None:
        if self.exhausted():
            return None
        for _ in range(_RESUGGESTS):
            trial, point = self._suggest()
            key = point_key(self.space, point)
            if key not in self._results:
                return self._asked(trial_id, trial, point)
            earlier = self._results[key]
            if earlier is None:
                self.study.tell(trial, state=_state("FAIL"))
            else:
                self.study.tell(trial, earlier)
        fresh = self.seen.fresh(
            lambda: self.space.fix(self.space.sample(self.rng), self.rng), self.rng
        )
        if fresh is None:
            return None
        self.study.enqueue_trial(self._suggestions(fresh), skip_if_exists=False)
        trial, point = self._suggest()
        return self._asked(trial_id, trial, point)

    def _asked(self, trial_id: int, trial: optuna.trial.Trial, point: dict[str, Any]) -> Candidate:
        self._running[trial_id] = trial
        self._results[point_key(self.space, point)] = None
        self.asked += 1
        return Candidate(point, {"strategy": "optuna", "number": trial.number})

    def _suggest(self) -> tuple[optuna.trial.Trial, dict[str, Any]]:
        """An Optuna trial and its point: active parameters suggested in dependency order."""
        trial = self.study.ask()
        filled = self.space.defaults(self.rng)  # inactive parameters keep these
        values: dict[str, Any] = {}
        for flag in self.space.get_ordered_param_when_valid():
            values[flag] = filled[flag]
            if self.space.is_active(flag, values):
                values[flag] = _suggest_one(trial, self.space[flag])
        point = {p.flag: values[p.flag] for p in self.space}
        return trial, self.space.fix(point, self.rng)

    def _suggestions(self, point: dict[str, Any]) -> dict[str, Any]:
        """What the study would suggest for ``point``: its active values, indices for lists."""
        suggested = {}
        for flag, value in self.space.active(point).items():
            parameter = self.space[flag]
            if isinstance(parameter, Range):
                suggested[flag] = value
            else:
                chosen = (i for i, v in enumerate(parameter.values) if same_value(v, value))
                suggested[flag] = next(chosen, 0)
        return suggested

    def observe(self, trial: Trial) -> None:
        asked = self._running.pop(trial.id, None)
        values = self._values(trial)
        # a point suggested again is told this (None: FAIL, for one failed, stopped or running)
        self._results[point_key(self.space, trial.params)] = values
        if asked is None:
            return
        if values is not None:
            self.study.tell(asked, values)
        elif trial.status is Status.STOPPED:
            if len(self.study.directions) == 1:  # a multi-objective study refuses report()
                for step, value in sorted(trial.intermediate.items()):
                    if math.isfinite(value):
                        asked.report(value, step)
            self.study.tell(asked, state=_state("PRUNED"))
        else:
            self.study.tell(asked, state=_state("FAIL"))

    def _values(self, trial: Trial) -> float | list[float] | None:
        """What the study is told of ``trial``: its score, with several objectives the list
        of their scores in the evaluator's order; None when it has none (not ok)."""
        if not trial.ok:
            return None
        names = self.config.objectives
        if not names:
            return trial.fom
        scores = [trial.objectives.get(name) for name in names]
        return None if None in scores else [float(s) for s in scores if s is not None]


def fresh_copy(sampler: Any) -> Any:
    """A deep copy of ``sampler``, its thread locks replaced by new ones.

    ``copy.deepcopy`` cannot copy a lock, and NSGA-II's and NSGA-III's samplers
    hold one (``_thread_lock``); a lock guards nothing worth copying, so the
    copy gets a fresh one. Locks are looked for in the sampler's attributes and
    theirs, a few levels down (where Optuna keeps them).
    """
    memo: dict[int, Any] = {}
    for value in _attributes(sampler, depth=3):
        if isinstance(value, _LOCK):
            memo[id(value)] = threading.Lock()
        elif isinstance(value, _RLOCK):
            memo[id(value)] = threading.RLock()
    return copy.deepcopy(sampler, memo)


_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())


def _attributes(value: Any, *, depth: int) -> list[Any]:
    """The attribute values of ``value``, and of theirs, ``depth`` levels down."""
    found: list[Any] = []
    layer = [value]
    for _ in range(depth):
        layer = [v for item in layer for v in getattr(item, "__dict__", {}).values()]
        found += layer
    return found


def _check_multi_objective(sampler: Any) -> None:
    """Refuse a sampler Optuna does not allow in a multi-objective study (CMA-ES)."""
    import optuna

    if sampler == "cmaes" or isinstance(sampler, optuna.samplers.CmaEsSampler):
        raise ConfigError(
            f"sampler {sampler_name(sampler)!r} cannot search several objectives (Optuna's "
            "CmaEsSampler is single-objective); use 'nsga2', 'tpe' or 'gp', or one objective.",
            name="sampler",
            value=sampler_name(sampler),
        )


def _state(name: str) -> Any:
    import optuna

    return getattr(optuna.trial.TrialState, name)


def _suggest_one(trial: optuna.trial.Trial, parameter: Any) -> Any:
    if isinstance(parameter, Range):
        if parameter.integer:
            return trial.suggest_int(
                parameter.flag, int(parameter.low), int(parameter.high), log=parameter.log
            )
        return trial.suggest_float(
            parameter.flag, float(parameter.low), float(parameter.high), log=parameter.log
        )
    index = trial.suggest_categorical(parameter.flag, list(range(len(parameter.values))))
    return parameter.values[index]
