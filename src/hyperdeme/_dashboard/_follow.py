"""One experiment followed while it runs: its journal read as it grows, its state.

:class:`Follower` keeps a :class:`~hyperdeme._engine._journal_read.JournalTail` (the
engine's reader, fed only the bytes written since the last look; a torn last line
waits for its end) and what the records said: the finished trials as compact rows
(:mod:`._rows`: a trial's details are read back from the journal when asked), the
trials started and not finished, the fingerprint. It reads in slices of
:data:`CHUNK` bytes (:meth:`Follower.read_slice`), so a server can answer pages
between two slices of a large journal. A journal that shrank or was
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

from .._core._direction import Direction
from .._core._errors import JournalError
from .._engine._journal_read import JOURNAL_NAME, JournalTail, Record
from .._engine._lock import driver_of
from ._rows import Rows, Where

__all__ = ["Follower", "State", "Summary"]

State = Literal["running", "finished", "interrupted"]
#: bytes of journal taken at a time: a slice (a 57 MB journal read whole peaked at
#: 480 MB; a 256 KB slice, about 450 trials, takes 15 ms: the longest a page's view
#: waits for a reading server)
CHUNK = 2**18


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
    #: the server is still reading the journal: ``done`` counts the trials read so far
    reading: bool = False

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__slots__}
        fom = self.best_fom
        data["best_fom"] = fom if fom is None or math.isfinite(fom) else str(fom)
        return data


class Follower:
    """The experiment in ``directory``; :meth:`refresh` reads what was added since.

    One reader at a time, and no view while it reads (the dashboard's registry holds a
    lock per experiment around every slice and every view); :meth:`summary` only
    reads counters and copies, so it may be asked while a slice is taken."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.name = directory.name
        self.version = 0  # incremented by every slice that read something
        self._reset()

    def _reset(self) -> None:
        self._tail = JournalTail(self.directory / JOURNAL_NAME)
        self._identity: tuple[int, int] | None = None
        self.rows = Rows(flags=[], objectives=[])
        self.started: dict[int, Record] = {}  # id -> its started record, while unfinished
        self.fingerprint: dict[str, Any] = {}
        self.error: str | None = None
        self.mtime = 0.0
        self.size = 0  # the journal's size at the last look

    @property
    def journal(self) -> Path:
        return self._tail.file

    @property
    def read_bytes(self) -> int:
        """How far the journal was read (to the end of its last whole line)."""
        return self._tail.offset

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
        started = list(self.started)  # one C-level copy: safe while a slice is taken
        return sorted(i for i in started if i not in self.rows.index)

    def refresh(self) -> bool:
        """Read the journal's new lines, all of them; True when something changed."""
        changed = False
        while (step := self.read_slice()) is not None:
            changed = True
            if not step:
                break
        return changed

    def read_slice(self, *, max_bytes: int | None = None) -> bool | None:
        """Read at most ``max_bytes`` (:data:`CHUNK`) of new lines: None when nothing
        changed, else whether more is left to read."""
        try:
            stat = os.stat(self._tail.file)
        except FileNotFoundError:
            return None
        identity = (stat.st_dev, stat.st_ino)
        reset = self._identity not in (None, identity) or stat.st_size < self._tail.offset
        if reset:
            self._reset()  # replaced or cut: read it again from its start
            self.version += 1
        self._identity = identity
        self.mtime = stat.st_mtime
        self.size = stat.st_size
        if self.error is not None or stat.st_size == self._tail.offset:
            return False if reset else None
        try:
            placed = self._tail.read_placed(max_bytes=max_bytes or CHUNK)
        except JournalError as error:
            self.error = str(error)
            placed = []
        for offset, length, record in placed:
            self._take(record, Where(offset, length))
        if placed or self.error is not None:
            self.version += 1
        return bool(placed) and self.error is None and self._tail.offset < stat.st_size

    def _take(self, record: Record, where: Where) -> None:
        kind = record.get("type")
        if kind == "experiment" and not self.fingerprint:
            self.fingerprint = dict(record.get("fingerprint") or {})
            space = self.fingerprint.get("space")
            parameters = space.get("parameters", []) if isinstance(space, dict) else []
            self.rows = Rows(
                flags=[str(p["flag"]) for p in parameters if isinstance(p, dict) and "flag" in p],
                objectives=list(self.objectives),
            )
        elif kind == "started":
            self.started[record["id"]] = record
        elif kind == "trial":
            self.started.pop(record["id"], None)  # kept only while it runs (memory)
            self.rows.add(record, where, maximize=self.direction == "maximize")

    def summary(self, *, reading: bool = False) -> Summary:
        """How the experiment stands now (call :meth:`refresh` first); ``reading``: the
        journal is still being read (the counts are so far)."""
        driver = driver_of(self.directory)
        unfinished = self.unfinished
        rows = self.rows
        state: State = "finished"
        if driver is not None:
            state = "running"
        elif unfinished or rows.again:
            state = "interrupted"
        best = rows.best
        return Summary(
            name=self.name,
            state=state,
            done=len(rows),
            running=len(unfinished) if driver is not None else 0,
            failed=rows.failed,
            best_fom=None if best is None else rows.fom[best],
            best_trial=None if best is None else rows.ids[best],
            last_activity=self.mtime,
            direction=self.direction,
            objectives=self.objectives,
            error=self.error,
            reading=reading,
        )
