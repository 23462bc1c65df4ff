"""``hyperdeme status``: how a run stands, finished or still going.

Given a folder of experiments (a run path), it lists them as ``hyperdeme list``
does; given an experiment file (``.toml``), it opens the experiment the file
names (``<run_path>/<name>``, the directory ``hyperdeme run`` writes).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from ._best import flags
from ._engine_internals import wording
from ._front import front_status
from ._journal_view import RunView, read_run
from ._list import is_run_path, list_lines

__all__ = ["status_lines", "status_of"]


def status_of(path: Path) -> list[str]:
    """What ``hyperdeme status PATH`` prints: one experiment's status, the list of a run
    path's experiments, or the status of the experiment an experiment file names."""
    if path.suffix == ".toml" and path.is_file():
        from ._experiment import load_experiment

        path = load_experiment(path).run_dir
    if is_run_path(path):
        table = list_lines(path)
        count = f"{len(table) - 1} experiment" + ("s" if len(table) != 2 else "")
        return [
            f"run path: {path} ({count}; hyperdeme status <run path>/<name> shows one)",
            *table,
        ]
    return status_lines(read_run(path))


def status_lines(view: RunView, *, now: float | None = None) -> list[str]:
    """A few human lines: counts by status, running trials, the best FoM and its flags
    (saying "higher is better" when the experiment maximises its FoM), or with several
    objectives the Pareto front."""
    now = time.time() if now is None else now
    counts = Counter(t.status.value for t in view.trials)
    by_status = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
    running = ", ".join(str(i) for i in view.running)
    driver = view.driver
    lines = [
        f"run: {view.directory}",
        "driver: "
        + (
            f"pid {driver['pid']} on {driver['host']} since {driver['since']}" if driver else "none"
        ),
        f"done: {len(view.trials)}" + (f" ({by_status})" if by_status else ""),
        f"failed: {len(view.failed)}",
        f"running: {len(view.running)}" + (f" (trials {running})" if running else ""),
    ]
    if view.interrupted:
        ids = ", ".join(str(i) for i in view.interrupted)
        lines.append(
            f"interrupted: {len(view.interrupted)} (trials {ids}; their driver is gone: "
            "hyperdeme run --resume runs them again)"
        )
    best = view.best
    if len(view.objectives) > 1:  # no single best: the front
        lines += front_status(view)
    elif best is None:
        lines.append("best FoM: none yet")
    else:
        lines.append(f"best FoM: {best.fom:.10g} (trial {best.id}{_which_way(view)})")
        lines.append(f"best flags: {flags(best.params)}")
    if view.trials:
        last = max(t.ended for t in view.trials)
        lines.append(f"last trial finished {max(0.0, now - last):.0f} s ago")
    return lines


def _which_way(view: RunView) -> str:
    """``"; higher is better"`` for a maximised FoM (minimising, crayai's way, goes unsaid)."""
    return "" if view.direction == "minimize" else f"; {wording(view.direction)}"
