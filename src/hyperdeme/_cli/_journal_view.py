"""A run directory as the command sees it: finished trials, the ids still running,
and those whose driver died under them.

The journal is read with the engine's reader, the one resuming uses, while the
run goes on: a line being written right now has no newline yet and is skipped
with a warning; any other line hyperdeme could not have written stops the
command with the reader's message, naming the line (exit code 1), as it stops
a resumed run. A trial with a ``started`` record and no finished
one is *running* while a driver holds the experiment (its lock file names
it), and *interrupted* once none does (the driver died; ``--resume`` runs it
again).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import hyperdeme

from ._engine_internals import (
    FAILURES,
    JOURNAL_NAME,
    Direction,
    best_of,
    driver_of,
    pareto_front,
    read_direction,
    read_objectives,
    read_trials,
)
from ._errors import CommandError, UsageProblem

__all__ = ["JOURNAL_NAME", "RunView", "read_run"]


@dataclass(frozen=True, slots=True)
class RunView:
    """What a run directory holds right now."""

    directory: Path
    #: finished trials in journal order (a later record of an id replaces an earlier one)
    trials: list[hyperdeme.Trial]
    #: ids of trials started but not finished while their driver runs, ascending
    running: list[int]
    #: ids of trials started but not finished whose driver is gone, ascending
    interrupted: list[int]
    #: the driver running the experiment (host, pid, since), None when none does
    driver: dict[str, object] | None
    #: whether the experiment minimises or maximises its FoM (its journal's fingerprint)
    direction: Direction = "minimize"
    #: the experiment's objectives and their directions (empty: one FoM)
    objectives: dict[str, Direction] = field(default_factory=dict)

    @property
    def front(self) -> list[hyperdeme.Trial]:
        """The non-dominated successful trials (several objectives), ordered by the first
        objective, best first; with one FoM, the trials with the best FoM."""
        return pareto_front(self.trials, self.objectives, self.direction)

    @property
    def best(self) -> hyperdeme.Trial | None:
        """The successful trial with the best FoM (the lowest, or the highest for a
        maximised one; the earliest among equals)."""
        return best_of(self.trials, self.direction)

    @property
    def failed(self) -> list[hyperdeme.Trial]:
        """Trials that ended without a result, cancelled and early-stopped ones excepted."""
        return [t for t in self.trials if t.status in FAILURES]


def read_run(directory: str | os.PathLike[str]) -> RunView:
    """Read ``directory/trials.jsonl`` (or the journal file itself) into a :class:`RunView`."""
    path = Path(directory)
    journal = path if path.is_file() else path / JOURNAL_NAME
    if not journal.is_file():
        raise UsageProblem(
            f"{path} holds no {JOURNAL_NAME}; give a run directory, such as "
            "run/<experiment> (the directory `hyperdeme run` names when it starts)."
        )
    try:
        trials, started = read_trials(journal)
        direction = read_direction(journal)
        objectives = read_objectives(journal)
    except hyperdeme.JournalError as error:
        raise CommandError(str(error)) from None
    unfinished = sorted(started - {trial.id for trial in trials})
    driver = driver_of(journal.parent)
    return RunView(
        directory=journal.parent,
        trials=trials,
        running=unfinished if driver is not None else [],
        interrupted=[] if driver is not None else unfinished,
        driver=driver,
        direction=direction,
        objectives=objectives,
    )
