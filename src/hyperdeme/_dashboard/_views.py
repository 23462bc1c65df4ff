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
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def experiment_view(follower: Follower) -> dict[str, Any]:
    """The experiment page's data: its summary, search space, and plot data."""
    trials = list(follower.trials.values())
    sample = _sample(trials, follower)
    direction = follower.direction
    objectives = follower.objectives
    view: dict[str, Any] = {
        "summary": follower.summary().to_json(),
        "space": follower.fingerprint.get("space", {}).get("parameters", []),
        "strategy": follower.fingerprint.get("strategy", {}),
        "command": follower.fingerprint.get("command", ""),
        "sampled": len(sample),
        "points": [_point(t) for t in sample],
        "best_so_far": _best_so_far(trials, follower),
        "gaps": _gaps(trials),
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


def _sample(trials: list[Trial], follower: Follower) -> list[Trial]:
    """Every trial, or :data:`PLOT_LIMIT` of them: the best half and an even spread."""
    if len(trials) <= PLOT_LIMIT:
        return trials
    best = sorted((t for t in trials if t.fom == t.fom), key=rank_key(follower.direction))
    chosen = {t.id for t in best[: PLOT_LIMIT // 2]}
    rest = [t for t in trials if t.id not in chosen]
    stride = len(rest) / (PLOT_LIMIT - len(chosen))
    chosen |= {rest[int(i * stride)].id for i in range(PLOT_LIMIT - len(chosen))}
    return [t for t in trials if t.id in chosen]


def _best_so_far(trials: list[Trial], follower: Follower) -> list[list[Any]]:
    """``[ended, fom, id]`` each time the best FoM improved, in time order."""
    best: float | None = None
    steps = []
    for trial in sorted((t for t in trials if t.ok), key=lambda t: t.ended):
        value = score(trial.fom, follower.direction)
        if best is None or value < best:
            best = value
            steps.append([trial.ended, number(trial.fom), trial.id])
    return steps


def _gaps(trials: list[Trial]) -> list[list[float]]:
    """``[from, to]`` for each pause in which no trial ran (a stop and a resume), longer
    than :data:`MIN_GAP` and than three median trial durations."""
    spans = sorted((t.started, t.ended) for t in trials if t.started and t.ended)
    if len(spans) < 2:
        return []
    longest = max(MIN_GAP, 3 * statistics.median(end - start for start, end in spans))
    gaps = []
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start - reach > longest:
            gaps.append([reach, start])
        reach = max(reach, end)
    return gaps


#: the table's sort keys besides a parameter's flag
_SORTS: dict[str, Callable[[Trial], Any]] = {
    "id": lambda t: t.id,
    "status": lambda t: (t.status.value, t.id),
    "duration": lambda t: (t.duration, t.id),
    "ended": lambda t: (t.ended, t.id),
}


def trials_page(
    follower: Follower, *, offset: int, limit: int, sort: str, descending: bool
) -> dict[str, Any]:
    """One page of the trials table, sorted by ``sort`` (``fom`` best first, ``id``,
    ``status``, ``duration``, ``ended``, or a parameter's flag)."""
    trials = list(follower.trials.values())
    if sort == "fom":
        key = rank_key(follower.direction)
        ordered = sorted(trials, key=lambda t: (math.isnan(t.fom), *key(t)))
    elif sort in _SORTS:
        ordered = sorted(trials, key=_SORTS[sort])
    else:  # a flag: numbers before text, trials without it last
        ordered = sorted(trials, key=lambda t: _flag_key(t, sort))
    if descending:
        ordered.reverse()
    return {
        "total": len(trials),
        "offset": offset,
        "trials": [_row(t) for t in ordered[offset : offset + limit]],
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
