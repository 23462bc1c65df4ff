"""What the dashboard serves, as JSON-able data: summaries, plot data, pages of trials.

The plots of a large experiment get a sample, never every trial: at most
:data:`PLOT_LIMIT` trials (the best half of it by FoM, the rest spread evenly
over the run), so a 100,000-trial experiment's page loads as fast as a small
one's; the best-so-far curve is computed over every trial (it changes a few
times only). The trials table is served a page at a time, sorted here.
"""

from __future__ import annotations

import math
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .._core._direction import pareto_front, rank_key, score
from .._core._trial import Trial
from .._engine._workspace import Workspace
from ._follow import Follower

__all__ = ["PLOT_LIMIT", "experiment_view", "trial_view", "trials_page"]

#: trials drawn at most on each plot
PLOT_LIMIT = 2000
#: trials whose intermediate FoMs are drawn at most
CURVE_LIMIT = 200
#: bytes of a trial's stdout and stderr shown (their ends)
TAIL_BYTES = 16 * 1024
#: a pause with no trial running longer than this (and than a few trial durations) is
#: marked on the time axis as a stop and a resume
MIN_GAP = 10.0


def number(value: float) -> float | str | None:
    """A float as JSON carries it: finite as itself, ``inf``/``nan`` as strings."""
    return value if math.isfinite(value) else str(value)


@dataclass(frozen=True, slots=True)
class _Columns:
    """The trials of one version of a follower, as arrays (sorting 100,000 trials by a
    Python key takes a second on a busy core; numpy's argsort a few milliseconds)."""

    trials: list[Trial]
    scores: npt.NDArray[np.float64]  # lower is better; nan last
    ok: npt.NDArray[np.bool_]
    started: npt.NDArray[np.float64]
    ended: npt.NDArray[np.float64]
    duration: npt.NDArray[np.float64]
    ids: npt.NDArray[np.int64]


_COLUMNS: weakref.WeakKeyDictionary[Follower, tuple[int, _Columns]] = weakref.WeakKeyDictionary()


def _columns(follower: Follower) -> _Columns:
    """The follower's trials as arrays, made once per version (cached)."""
    cached = _COLUMNS.get(follower)
    if cached is not None and cached[0] == follower.version:
        return cached[1]
    trials = list(follower.trials.values())
    count = len(trials)
    direction = follower.direction
    scores = np.fromiter((score(t.fom, direction) for t in trials), np.float64, count)
    columns = _Columns(
        trials=trials,
        scores=np.where(np.isnan(scores), np.inf, scores),
        ok=np.fromiter((t.ok for t in trials), np.bool_, count),
        started=np.fromiter((t.started for t in trials), np.float64, count),
        ended=np.fromiter((t.ended for t in trials), np.float64, count),
        duration=np.fromiter((t.duration for t in trials), np.float64, count),
        ids=np.fromiter((t.id for t in trials), np.int64, count),
    )
    _COLUMNS[follower] = (follower.version, columns)
    return columns


_VIEWS: weakref.WeakKeyDictionary[Follower, tuple[int, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


def experiment_view(follower: Follower) -> dict[str, Any]:
    """The experiment page's data: its summary (now), search space, and plot data (made
    once per version of the journal, however many pages ask)."""
    cached = _VIEWS.get(follower)
    if cached is None or cached[0] != follower.version:
        cached = (follower.version, _plot_data(follower))
        _VIEWS[follower] = cached
    return {**cached[1], "summary": follower.summary().to_json()}


def _plot_data(follower: Follower) -> dict[str, Any]:
    columns = _columns(follower)
    trials = columns.trials
    sample = _sample(columns)
    direction = follower.direction
    objectives = follower.objectives
    view: dict[str, Any] = {
        "space": follower.fingerprint.get("space", {}).get("parameters", []),
        "strategy": follower.fingerprint.get("strategy", {}),
        "command": follower.fingerprint.get("command", ""),
        "sampled": len(sample),
        "points": [_point(t) for t in sample],
        "best_so_far": _best_so_far(columns),
        "gaps": _gaps(columns),
        "curves": {
            str(t.id): [[step, number(fom)] for step, fom in sorted(t.intermediate.items())]
            for t in sample
            if t.intermediate
        },
    }
    if len(view["curves"]) > CURVE_LIMIT:
        ranked = sorted(sample, key=rank_key(direction))[:CURVE_LIMIT]
        view["curves"] = {str(t.id): view["curves"][str(t.id)] for t in ranked if t.intermediate}
    if len(objectives) > 1:
        among = trials if len(trials) <= PLOT_LIMIT else sample
        view["front"] = [t.id for t in pareto_front(among, objectives, direction)]
    return view


def _point(trial: Trial) -> dict[str, Any]:
    return {
        "id": trial.id,
        "fom": number(trial.fom),
        "status": trial.status.value,
        "started": trial.started,
        "ended": trial.ended,
        "params": trial.params,
        "objectives": {k: number(v) for k, v in trial.objectives.items()},
    }


def _sample(columns: _Columns) -> list[Trial]:
    """Every trial, or :data:`PLOT_LIMIT` of them: the best half and an even spread."""
    trials = columns.trials
    if len(trials) <= PLOT_LIMIT:
        return trials
    best = np.argsort(columns.scores, kind="stable")[: PLOT_LIMIT // 2]
    chosen = np.zeros(len(trials), dtype=np.bool_)
    chosen[best] = True
    rest = np.flatnonzero(~chosen)
    chosen[rest[np.linspace(0, len(rest) - 1, PLOT_LIMIT - len(best)).astype(np.int64)]] = True
    return [trials[i] for i in np.flatnonzero(chosen)]


def _best_so_far(columns: _Columns) -> list[list[Any]]:
    """``[ended, fom, id]`` each time the best FoM improved, in time order."""
    order = np.flatnonzero(columns.ok)
    order = order[np.argsort(columns.ended[order], kind="stable")]
    scores = columns.scores[order]
    if not len(scores):
        return []
    running = np.minimum.accumulate(scores)
    improved = np.concatenate(([True], running[1:] < running[:-1]))
    return [
        [columns.trials[i].ended, number(columns.trials[i].fom), columns.trials[i].id]
        for i in order[improved]
    ]


def _gaps(columns: _Columns) -> list[list[float]]:
    """``[from, to]`` for each pause in which no trial ran (a stop and a resume), longer
    than :data:`MIN_GAP` and than three median trial durations."""
    known = (columns.started > 0) & (columns.ended > 0)
    starts, ends = columns.started[known], columns.ended[known]
    if len(starts) < 2:
        return []
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    longest = max(MIN_GAP, 3 * float(np.median(ends - starts)))
    reach = np.maximum.accumulate(ends)[:-1]  # the latest end before each next start
    pauses = np.flatnonzero(starts[1:] - reach > longest)
    return [[float(reach[i]), float(starts[i + 1])] for i in pauses]


#: the table's sort keys besides a parameter's flag: a column of :class:`_Columns`
_SORTS = ("id", "fom", "duration", "ended", "status")


def trials_page(
    follower: Follower, *, offset: int, limit: int, sort: str, descending: bool
) -> dict[str, Any]:
    """One page of the trials table, sorted by ``sort`` (``fom`` best first, ``id``,
    ``status``, ``duration``, ``ended``, or a parameter's flag), ties by id."""
    columns = _columns(follower)
    trials = columns.trials
    if sort == "status":
        statuses = np.array([t.status.value for t in trials])
        order = np.lexsort((columns.ids, statuses))
    elif sort in _SORTS:
        key = {"fom": columns.scores, "id": columns.ids}.get(sort)
        key = getattr(columns, sort) if key is None else key
        order = np.lexsort((columns.ids, key))
    else:  # a flag: numbers before text, trials without it last
        order = np.array(
            sorted(range(len(trials)), key=lambda i: _flag_key(trials[i], sort)), dtype=np.int64
        )
    if descending:
        order = order[::-1]
    return {
        "total": len(trials),
        "offset": offset,
        "trials": [_row(trials[i]) for i in order[offset : offset + limit]],
    }


def _flag_key(trial: Trial, flag: str) -> tuple[int, float, str, int]:
    value = trial.params.get(flag)
    if value is None:
        return (2, 0.0, "", trial.id)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value), "", trial.id)
    return (1, 0.0, str(value), trial.id)


def _row(trial: Trial) -> dict[str, Any]:
    return {
        "id": trial.id,
        "status": trial.status.value,
        "fom": number(trial.fom),
        "duration": trial.duration,
        "ended": trial.ended,
        "params": trial.params,
        "error": trial.error[:200],
    }


def trial_view(follower: Follower, trial_id: int) -> dict[str, Any] | None:
    """One trial in full: its record (or its started record while it runs) and the ends
    of its stdout and stderr; None when the journal has no such trial."""
    trial = follower.trials.get(trial_id)
    if trial is not None:
        data: dict[str, Any] = trial.to_json()
    elif trial_id in follower.started:
        started = follower.started[trial_id]
        data = {"id": trial_id, "status": "running", "params": started.get("genes", {})}
    else:
        return None
    root = follower.directory  # the trial's directory, named as the engine names it
    directory = Workspace(root=root, src_path=None, cwd=root, checkpoint_root=None).trial_dir(
        trial_id
    )
    data["stdout"] = _tail(directory / "stdout.log")
    data["stderr"] = _tail(directory / "stderr.log")
    return data


def _tail(path: Path) -> str:
    """The end of a log, decoded leniently; empty when there is none."""
    try:  # never through a link a program planted in its directory
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - TAIL_BYTES))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
