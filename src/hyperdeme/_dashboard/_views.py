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

from .._core._direction import pareto_front
from .._core._trial import Status, Trial
from .._engine._workspace import Workspace
from ._follow import Follower
from ._rows import MISSING, STATUSES, Rows

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
    """The trials of one version of a follower, as numpy arrays copied from its rows
    (sorting 100,000 trials by a Python key takes a second on a busy core; numpy's
    argsort a few milliseconds)."""

    rows: Rows
    scores: npt.NDArray[np.float64]  # lower is better; nan last
    ok: npt.NDArray[np.bool_]
    status: npt.NDArray[np.int8]
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
    rows = follower.rows
    fom = np.array(rows.fom, dtype=np.float64)
    status = np.array(rows.status, dtype=np.int8)
    scores = -fom if follower.direction == "maximize" else fom.copy()
    scores[np.isnan(scores)] = np.inf
    ok = (status == STATUSES.index(Status.OK)) & np.isfinite(fom)
    columns = _Columns(
        rows=rows,
        scores=scores,
        ok=ok,
        status=status,
        started=np.array(rows.started, dtype=np.float64),
        ended=np.array(rows.ended, dtype=np.float64),
        duration=np.array(rows.duration, dtype=np.float64),
        ids=np.array(rows.ids, dtype=np.int64),
    )
    _COLUMNS[follower] = (follower.version, columns)
    return columns


_VIEWS: weakref.WeakKeyDictionary[Follower, tuple[int, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


def experiment_view(follower: Follower) -> dict[str, Any]:
    """The experiment page's data: search space and plot data (made once per version
    of the journal, however many pages ask); the caller adds the summary."""
    cached = _VIEWS.get(follower)
    if cached is None or cached[0] != follower.version:
        cached = (follower.version, _plot_data(follower))
        _VIEWS[follower] = cached
    return cached[1]


def _plot_data(follower: Follower) -> dict[str, Any]:
    columns = _columns(follower)
    rows = columns.rows
    chosen = _sample(columns)
    sample = [rows.trial(int(i)) for i in chosen]
    direction = follower.direction
    objectives = follower.objectives
    with_curve = [int(i) for i in chosen if rows.curve[int(i)]]
    if len(with_curve) > CURVE_LIMIT:
        best = np.argsort(columns.scores[with_curve], kind="stable")[:CURVE_LIMIT]
        with_curve = sorted(with_curve[i] for i in best)
    view: dict[str, Any] = {
        "space": follower.fingerprint.get("space", {}).get("parameters", []),
        "strategy": follower.fingerprint.get("strategy", {}),
        "command": follower.fingerprint.get("command", ""),
        "sampled": len(sample),
        "points": [_point(t) for t in sample],
        "best_so_far": _best_so_far(columns),
        "gaps": _gaps(columns),
        "curves": {str(rows.ids[i]): _curve(follower, i) for i in with_curve},
    }
    if len(objectives) > 1:
        view["front"] = [t.id for t in pareto_front(sample, objectives, direction)]
    return view


def _curve(follower: Follower, row: int) -> list[list[Any]]:
    """A trial's intermediate FoMs by step, read back from the journal."""
    found = follower.rows.record(follower.journal, row).get("intermediate", {})
    return [[int(step), number(float(fom))] for step, fom in sorted(found.items(), key=_step)]


def _step(item: tuple[str, Any]) -> int:
    return int(item[0])


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


def _sample(columns: _Columns) -> npt.NDArray[np.int64]:
    """The rows drawn: every one, or :data:`PLOT_LIMIT`: the best half and an even spread."""
    count = len(columns.ids)
    if count <= PLOT_LIMIT:
        return np.arange(count, dtype=np.int64)
    best = np.argsort(columns.scores, kind="stable")[: PLOT_LIMIT // 2]
    chosen = np.zeros(count, dtype=np.bool_)
    chosen[best] = True
    rest = np.flatnonzero(~chosen)
    chosen[rest[np.linspace(0, len(rest) - 1, PLOT_LIMIT - len(best)).astype(np.int64)]] = True
    return np.flatnonzero(chosen)


def _best_so_far(columns: _Columns) -> list[list[Any]]:
    """``[ended, fom, id]`` each time the best FoM improved, in time order."""
    order = np.flatnonzero(columns.ok)
    order = order[np.argsort(columns.ended[order], kind="stable")]
    scores = columns.scores[order]
    if not len(scores):
        return []
    running = np.minimum.accumulate(scores)
    improved = np.concatenate(([True], running[1:] < running[:-1]))
    rows = columns.rows
    return [[rows.ended[i], number(rows.fom[i]), rows.ids[i]] for i in order[improved].tolist()]


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
    ``status``, ``duration``, ``ended``, ``error``, or a parameter's flag), ties by id."""
    columns = _columns(follower)
    rows = columns.rows
    if sort == "status":
        names = np.array([status.value for status in STATUSES])[columns.status]
        order = np.lexsort((columns.ids, names))
    elif sort in _SORTS:
        key = {"fom": columns.scores, "id": columns.ids}.get(sort)
        key = getattr(columns, sort) if key is None else key
        order = np.lexsort((columns.ids, key))
    elif sort == "error":  # trials without one first, then by the error's text
        texts = [rows.errors.get(i, "") for i in range(len(rows))]
        order = np.lexsort((columns.ids, np.unique(np.array(texts), return_inverse=True)[1]))
    elif sort in rows.flags:  # numbers before text, trials without it last
        order = _by_flag(rows, rows.flags.index(sort), columns.ids)
    else:
        raise ValueError(f"sort must be one of {', '.join(_SORTS)}, error or a flag, got {sort!r}")
    if descending:
        order = order[::-1]
    return {
        "total": len(rows),
        "offset": offset,
        "trials": [_row(rows, i) for i in order[offset : offset + limit].tolist()],
    }


def _by_flag(rows: Rows, at: int, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The rows ordered by the ``at``-th flag: numbers, then text, then trials without it."""
    values = [row[at] if at < len(row) else MISSING for row in rows.params]
    kinds = np.array([_kind(v) for v in values], dtype=np.int8)
    numbers = np.array([float(v) if k == 0 else 0.0 for v, k in zip(values, kinds, strict=True)])
    texts = np.unique(
        np.array([str(v) if k == 1 else "" for v, k in zip(values, kinds, strict=True)]),
        return_inverse=True,
    )[1]
    return np.lexsort((ids, texts, numbers, kinds))


def _kind(value: Any) -> int:
    if value is MISSING or value is None:
        return 2
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 0
    return 1


def _row(rows: Rows, row: int) -> dict[str, Any]:
    return {
        "id": rows.ids[row],
        "status": STATUSES[rows.status[row]].value,
        "fom": number(rows.fom[row]),
        "duration": rows.duration[row],
        "ended": rows.ended[row],
        "params": rows.params_of(row),
        "error": rows.errors.get(row, ""),
    }


def trial_view(follower: Follower, trial_id: int) -> dict[str, Any] | None:
    """One trial in full: its record, read back from the journal (or its started record
    while it runs), and the ends of its stdout and stderr; None when there is no such
    trial."""
    row = follower.rows.index.get(trial_id)
    if row is not None:
        data: dict[str, Any] = Trial.from_json(
            follower.rows.record(follower.journal, row)
        ).to_json()
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
