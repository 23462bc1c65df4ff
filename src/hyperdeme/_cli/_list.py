"""``hyperdeme list``: one line per experiment under a run path (and ``status`` on one).

Name, state (running: its driver is alive; interrupted: no driver, trials left
unfinished; finished), trials done (and running), best FoM, last activity. The
experiments are found and read by :mod:`hyperdeme._dashboard` (the scan and the
journal follower ``hyperdeme serve`` uses), so the three commands agree.
"""

from __future__ import annotations

import datetime
import math
import os
from pathlib import Path

from .._dashboard._follow import Follower, Summary
from .._dashboard._scan import experiment_dirs
from ._errors import UsageProblem

__all__ = ["is_run_path", "list_lines", "summaries"]

_HEADER = ("EXPERIMENT", "STATE", "TRIALS", "BEST FOM", "LAST ACTIVITY")


def summaries(run_path: str | os.PathLike[str]) -> list[Summary]:
    """Every experiment under ``run_path``, read now; a :class:`UsageProblem` when it
    holds none."""
    found = experiment_dirs(run_path)
    if not found:
        raise UsageProblem(
            f"{run_path} holds no experiments (no <name>/trials.jsonl in it); give the "
            "run path `hyperdeme run` wrote to (evaluator.run_path, default 'run')."
        )
    result = []
    for directory in found:
        follower = Follower(directory)
        follower.refresh()
        result.append(follower.summary())
    return result


def list_lines(run_path: str | os.PathLike[str]) -> list[str]:
    """The table ``hyperdeme list`` prints: a header, then one row per experiment."""
    rows = [_HEADER] + [_row(s) for s in summaries(run_path)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _row(summary: Summary) -> tuple[str, str, str, str, str]:
    trials = str(summary.done) + (f" (+{summary.running} running)" if summary.running else "")
    if summary.error is not None:
        best = "journal unreadable (hyperdeme status names the line)"
    elif len(summary.objectives) > 1:
        best = f"{len(summary.objectives)} objectives"
    elif summary.best_fom is None:
        best = "none yet"
    else:
        best = (
            f"{summary.best_fom:.6g}" if math.isfinite(summary.best_fom) else str(summary.best_fom)
        )
    when = datetime.datetime.fromtimestamp(summary.last_activity).isoformat(
        sep=" ", timespec="seconds"
    )
    return (_printable(summary.name), summary.state, trials, best, when)


def _printable(name: str) -> str:
    """A directory name as one terminal-safe line (control characters escaped)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def is_run_path(path: Path) -> bool:
    """True when ``path`` is a folder of experiments rather than one experiment."""
    found = experiment_dirs(path)
    return bool(found) and found != [path]
