"""One experiment followed while it runs: its journal read as it grows, its state.

:class:`Follower` keeps a :class:`~hyperdeme._engine._journal_read.JournalTail` (the
engine's reader, fed only the bytes written since the last look; a torn last line
waits for its end) and what the records said: the finished trials by id, the
trials started and not finished, the fingerprint. A journal that shrank or was
replaced (a new experiment of the same name) is read again from its start.

*State*: ``running`` while a driver holds the experiment's lock and is alive (the
lock's ``.driver`` file; see :mod:`hyperdeme._engine._lock`, never taking the
lock), ``interrupted`` when none does and trials were left unfinished (started and
never finished, or cancelled: ``--resume`` runs them), else ``finished``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .._core._direction import Direction, is_better
from .._core._errors import JournalError
from .._core._trial import FAILURES, Status, Trial
from .._engine._journal_read import JOURNAL_NAME, JournalTail, Record
from .._engine._lock import driver_of

__all__ = ["Follower", "State", "Summary"]

State = Literal["running", "finished", "interrupted"]
#: bytes of journal taken at a time (a 57 MB journal read whole peaked at 480 MB)
CHUNK = 4 * 2**20
#: endings run again on resume: an experiment left with them is interrupted
_AGAIN = frozenset({Status.CANCELLED, Status.INTERRUPTED})


@dataclass(frozen=True, slots=True)
class Summary:
    """One line of ``hyperdeme list`` and of the dashboard's front page."""

    name: str
    state: State
    done: int
    running: int
    failed: int
    best_fom: float | None
    best_trial: int | None
    #: seconds since the epoch: when the journal was last written
    last_activity: float
    direction: Direction
    objectives: dict[str, Direction]
    #: the journal's error (a damaged line), None when it reads
    error: str | None

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__slots__}
        fom = self.best_fom
        data["best_fom"] = fom if fom is None or math.isfinite(fom) else str(fom)
        return data


class Follower:
    """The experiment in ``directory``; :meth:`refresh` reads what was added since."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.name = directory.name
        self.version = 0  # incremented by every refresh that read something
        self._reset()

    def _reset(self) -> None:
        self._tail = JournalTail(self.directory / JOURNAL_NAME)
        self._identity: tuple[int, int] | None = None
        self.trials: dict[int, Trial] = {}  # id -> its final record, in journal order
        self.started: dict[int, Record] = {}  # id -> its started record, while unfinished
        self.fingerprint: dict[str, Any] = {}
        self.error: str | None = None
        self.best: Trial | None = None
        self.mtime = 0.0

    @property
    def direction(self) -> Direction:
        return "maximize" if self.fingerprint.get("direction") == "maximize" else "minimize"

    @property
    def objectives(self) -> dict[str, Direction]:
        found = self.fingerprint.get("objectives")
        if not isinstance(found, dict):
            return {}
        return {str(k): "maximize" if v == "maximize" else "minimize" for k, v in found.items()}

    @property
    def unfinished(self) -> list[int]:
        """Trials started and not finished (a cancelled one is run again: finished)."""
        return sorted(set(self.started) - set(self.trials))

    def refresh(self) -> bool:
        """Read the journal's new lines; True when something changed."""
        try:
            stat = os.stat(self._tail.file)
        except FileNotFoundError:
            return False
        identity = (stat.st_dev, stat.st_ino)
        if self._identity not in (None, identity) or stat.st_size < self._tail.offset:
            self._reset()  # replaced or cut: read it again from its start
            self.version += 1
        self._identity = identity
        self.mtime = stat.st_mtime
        if self.error is not None or stat.st_size == self._tail.offset:
            return False
        try:
            while records := self._tail.read(max_bytes=CHUNK):  # in parts: a bounded peak
                for record in records:
                    self._take(record)
        except JournalError as error:
            self.error = str(error)
        self.version += 1
        return True

    def _take(self, record: Record) -> None:
        kind = record.get("type")
        if kind == "experiment" and not self.fingerprint:
            self.fingerprint = dict(record.get("fingerprint") or {})
        elif kind == "started":
            self.started[record["id"]] = record
        elif kind == "trial":
            trial = Trial.from_json(record)
            self.started.pop(trial.id, None)  # kept only while it runs (memory)
            self.trials.pop(trial.id, None)  # re-inserted last: the order of final records
            self.trials[trial.id] = trial
            if trial.ok and (
                self.best is None or is_better(trial.fom, self.best.fom, self.direction)
            ):
                self.best = trial

    def summary(self) -> Summary:
        """How the experiment stands now (call :meth:`refresh` first)."""
        driver = driver_of(self.directory)
        unfinished = self.unfinished
        state: State = "finished"
        if driver is not None:
            state = "running"
        elif unfinished or any(t.status in _AGAIN for t in self.trials.values()):
            state = "interrupted"
        best = self.best
        return Summary(
            name=self.name,
            state=state,
            done=len(self.trials),
            running=len(unfinished) if driver is not None else 0,
            failed=sum(t.status in FAILURES for t in self.trials.values()),
            best_fom=None if best is None else best.fom,
            best_trial=None if best is None else best.id,
            last_activity=self.mtime,
            direction=self.direction,
            objectives=self.objectives,
            error=self.error,
        )
