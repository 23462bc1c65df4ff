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

A FoM with no meaning as a result (a failed or cancelled trial's ``inf``, a
diverged ``nan`` or ``±inf`` when maximising) scores ``inf`` or ``nan``, never
``-inf``: it cannot be the best.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from typing import Literal

from ._trial import Trial

__all__ = [
    "DIRECTIONS",
    "Direction",
    "best_of",
    "is_better",
    "no_best",
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


def scored(trial: Trial, direction: Direction) -> Trial:
    """The trial a strategy is told: its FoM and intermediate FoMs as scores.

    Minimising, the trial itself; maximising, a copy (the journal's trial keeps
    the program's numbers).
    """
    if direction == "minimize":
        return trial
    return dataclasses.replace(
        trial,
        fom=score(trial.fom, direction),
        intermediate={step: score(fom, direction) for step, fom in trial.intermediate.items()},
    )


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
