"""Which way the FoM is better: ``Evaluator(direction="minimize" | "maximize")``.

One representation everywhere: a :class:`~hyperdeme.Trial` keeps the FoM as
the program reported it (the journal, ``Result.trials``, the CSV export and
the report show the user's numbers), and this module is the one place that
turns it into a *score*, where lower is always better. Strategies are told
score views of their trials (:func:`scored`) and early-stopping rules hear
scores (:func:`score`), so every search and every rule minimises, unchanged;
whatever picks or ranks "the best" for the user (``Result.best_*``, the
progress line, ``hyperdeme status``/``best``/``report``) ranks by
:func:`rank_key` and says which way is better with :func:`wording`.

With several objectives (``Evaluator(objectives=...)``) each has its own
direction: :func:`scored` turns each of ``trial.objectives`` into a score too,
and :func:`pareto_front` picks the non-dominated trials for the user.

A FoM with no meaning as a result (a failed or cancelled trial's ``inf``, a
diverged ``nan`` or ``±inf`` when maximising) scores ``inf`` or ``nan``, never
``-inf``: it cannot be the best.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Literal

from ._pareto import non_dominated
from ._trial import Trial

__all__ = [
    "DIRECTIONS",
    "Direction",
    "best_of",
    "is_better",
    "no_best",
    "objective_scores",
    "pareto_front",
    "rank_key",
    "score",
    "scored",
    "wording",
]

Direction = Literal["minimize", "maximize"]
#: the allowed values of ``direction``, the default first
DIRECTIONS: tuple[Direction, ...] = ("minimize", "maximize")


def score(fom: float, direction: Direction) -> float:
    """``fom`` as a search sees it: lower is better (maximising negates a finite FoM)."""
    if direction == "minimize":
        return fom
    if math.isfinite(fom):
        return -fom
    return fom if math.isnan(fom) else math.inf


def scored(
    trial: Trial, direction: Direction, objectives: Mapping[str, Direction] | None = None
) -> Trial:
    """The trial a strategy is told: its FoM, intermediate FoMs and objectives as scores.

    Minimising everything, the trial itself; else a copy (the journal's trial
    keeps the program's numbers). ``objectives`` gives each objective's direction.
    """
    flip = bool(objectives) and any(d == "maximize" for d in (objectives or {}).values())
    if direction == "minimize" and not flip:
        return trial
    return dataclasses.replace(
        trial,
        fom=score(trial.fom, direction),
        intermediate={step: score(fom, direction) for step, fom in trial.intermediate.items()},
        objectives={
            name: score(value, (objectives or {}).get(name, "minimize"))
            for name, value in trial.objectives.items()
        },
    )


def objective_scores(trial: Trial, objectives: Mapping[str, Direction]) -> tuple[float, ...]:
    """The trial's objectives as scores, in the order of ``objectives`` (``inf`` for a
    missing one; an objective not named there is minimised)."""
    names = objectives or dict.fromkeys(trial.objectives, "minimize")
    return tuple(
        score(trial.objectives.get(name, math.inf), direction) for name, direction in names.items()
    )


def pareto_front(
    trials: Iterable[Trial], objectives: Mapping[str, Direction], direction: Direction = "minimize"
) -> list[Trial]:
    """The successful trials (``trial.ok``) no other successful trial dominates, each
    objective taken in its direction; ordered by the first objective, best first, then
    by the next ..., then by id. Trials with equal objectives all belong to it.

    Without ``objectives`` (one FoM, better in ``direction``) the front is the trials
    with the best FoM.
    """
    candidates = [t for t in trials if t.ok]
    if objectives:
        vectors = [objective_scores(t, objectives) for t in candidates]
    else:
        vectors = [(score(t.fom, direction),) for t in candidates]
    front = [(vectors[i], candidates[i].id, candidates[i]) for i in non_dominated(vectors)]
    return [trial for _, _, trial in sorted(front, key=lambda item: item[:2])]


def is_better(fom: float, than: float, direction: Direction) -> bool:
    """True when ``fom`` is strictly better than ``than``."""
    return score(fom, direction) < score(than, direction)


def rank_key(direction: Direction) -> Callable[[Trial], tuple[float, int]]:
    """A sort key putting the best trial first (the earliest among equal FoMs)."""

    def key(trial: Trial) -> tuple[float, int]:
        return score(trial.fom, direction), trial.id

    return key


def best_of(trials: Iterable[Trial], direction: Direction) -> Trial | None:
    """The successful trial (``trial.ok``) with the best FoM, the earliest among equals."""
    return min((t for t in trials if t.ok), key=rank_key(direction), default=None)


def no_best(direction: Direction) -> float:
    """The best FoM of a run without a successful trial: the worst value, ``inf``
    minimising and ``-inf`` maximising."""
    return math.inf if direction == "minimize" else -math.inf


def wording(direction: Direction) -> str:
    """``"lower is better"`` or ``"higher is better"``."""
    return "lower is better" if direction == "minimize" else "higher is better"
