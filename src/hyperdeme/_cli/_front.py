"""The Pareto front of a run with several objectives, as ``status`` and ``best`` print it.

``hyperdeme best`` prints one pair of lines per front trial, ordered by the
first objective (best first): a ``#`` comment naming the trial and its
objectives, then its flags, so any line pastes after the command as it is.
``hyperdeme status`` says how many trials the front holds and shows its ends.
"""

from __future__ import annotations

import hyperdeme

from ._best import flags
from ._errors import CommandError
from ._journal_view import RunView

__all__ = ["front_flags", "front_status", "objectives_text"]

#: how many front trials ``status`` lists
_STATUS_SHOWN = 5


def objectives_text(trial: hyperdeme.Trial) -> str:
    """``val_loss=0.31 latency_ms=12`` (the trial's objectives, as reported)."""
    return " ".join(f"{name}={value:.10g}" for name, value in trial.objectives.items())


def front_flags(view: RunView) -> list[str]:
    """Each front trial as a comment line and a flags line; CommandError when no trial
    succeeded yet."""
    front = view.front
    if not front:
        raise CommandError(
            f"no trial of {view.directory} has succeeded yet ({len(view.trials)} finished, "
            f"{len(view.running)} running), so there is no Pareto front."
        )
    lines = []
    for trial in front:
        lines.append(f"# trial {trial.id}: {objectives_text(trial)}")
        lines.append(flags(trial.params))
    return lines


def front_status(view: RunView) -> list[str]:
    """``status`` lines of a run with several objectives: the objectives, the front's
    size, its first trials."""
    wanted = ", ".join(f"{name} ({direction})" for name, direction in view.objectives.items())
    lines = [f"objectives: {wanted}"]
    front = view.front
    if not front:
        return [*lines, "Pareto front: none yet"]
    lines.append(
        f"Pareto front: {len(front)} trial(s) no other beats in every objective "
        "(hyperdeme best prints their flags)"
    )
    # the first few and the other end of the front
    hidden = max(0, len(front) - _STATUS_SHOWN)
    shown = front if not hidden else [*front[: _STATUS_SHOWN - 1], front[-1]]
    for index, trial in enumerate(shown):
        if hidden and index == len(shown) - 1:
            lines.append(f"  ... {hidden} more")
        lines.append(f"  trial {trial.id}: {objectives_text(trial)}")
    return lines
