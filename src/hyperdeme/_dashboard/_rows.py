"""The finished trials of a followed journal, kept small: one row of numbers per trial.

A :class:`~hyperdeme.Trial` object with its dicts cost about 2.2 KB per trial
(265 MB for 100,000); the dashboard needs only what its summary, plots and table
show. So a row keeps the id, the status (a code), FoM, start, end and duration in
typed arrays (8 bytes each), the parameters as a tuple in the order of
:attr:`Rows.flags`, and where the trial's record starts in the journal (and its
length). The rest (command, intermediate FoMs, metrics, the full error) is read
back from the journal by that offset when one trial is opened
(:meth:`Rows.record`): a journal only grows (a replaced or cut one is read again
from its start by the follower), so an offset stays true.

Objectives (a tuple, when the experiment has several) and the first
:data:`ERROR_CHARS` characters of an error (failed trials only) are kept too: the
Pareto front and the table need them for every trial.
"""

from __future__ import annotations

import json
import math
import os
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._core._trial import FAILURES, Status, Trial
from .._engine._journal_read import Record

__all__ = ["ERROR_CHARS", "MISSING", "STATUSES", "Rows"]

#: the statuses by code (the code is the index)
STATUSES: tuple[Status, ...] = tuple(Status)
_CODE = {status.value: code for code, status in enumerate(STATUSES)}
_FAILED = frozenset(_CODE[s.value] for s in FAILURES)
#: endings run again on resume: an experiment left with them is interrupted
_AGAIN = frozenset(_CODE[s.value] for s in (Status.CANCELLED, Status.INTERRUPTED))
_OK = _CODE[Status.OK.value]
#: characters of an error kept per failed trial (the table's cell); the rest is read back
ERROR_CHARS = 200


class _Missing:
    """A parameter a trial did not have (a condition switched it off)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class Where:
    """A record's place in the journal: its first byte and its length."""

    offset: int
    length: int


class Rows:
    """The finished trials, in the order of their first final record; a trial finished
    again (after a cancel) replaces its row in place."""

    def __init__(self, *, flags: list[str], objectives: list[str]) -> None:
        self.flags = list(flags)  # a flag seen first in a trial is appended
        self._known = set(self.flags)
        self._texts: dict[str, str] = {}
        self.objectives = list(objectives)
        self.ids = array("q")
        self.status = array("b")
        self.fom = array("d")
        self.started = array("d")
        self.ended = array("d")
        self.duration = array("d")
        self.offset = array("q")
        self.length = array("l")
        self.curve = array("b")  # 1: the record has intermediate FoMs
        self.params: list[tuple[Any, ...]] = []
        self.objective_values: list[tuple[float, ...]] = []  # kept with objectives only
        self.errors: dict[int, str] = {}  # row -> the start of its error
        self.index: dict[int, int] = {}  # id -> row
        self.failed = 0
        self.again = 0  # rows cancelled or interrupted
        self.best: int | None = None  # the row of the best successful trial

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, record: Record, where: Where, *, maximize: bool) -> None:
        """Keep the trial of a checked ``trial`` record found at ``where``."""
        code = _CODE[record["status"]]
        fom = float(record["fom"])
        values = (
            code,
            fom,
            float(record.get("started", 0.0)),
            float(record.get("ended", 0.0)),
            float(record.get("duration", 0.0)),
            where.offset,
            where.length,
            1 if record.get("intermediate") else 0,
        )
        row = self.index.get(record["id"])
        if row is None:
            row = len(self.ids)
            self.index[record["id"]] = row
            self.ids.append(record["id"])
            for column, value in zip(self._columns(), values, strict=True):
                column.append(value)
            self.params.append(())
            if self.objectives:
                self.objective_values.append(())
        else:
            self._count(self.status[row], -1)
            for column, value in zip(self._columns(), values, strict=True):
                column[row] = value
        self._count(code, +1)
        self.params[row] = self._row(record["params"])
        if self.objectives:
            found = record.get("objectives", {})
            self.objective_values[row] = tuple(
                float(found.get(name, math.nan)) for name in self.objectives
            )
        error = str(record.get("error", ""))
        if error:
            self.errors[row] = error[:ERROR_CHARS]
        else:
            self.errors.pop(row, None)
        self._rank(row, maximize=maximize)

    def _columns(self) -> tuple[array[Any], ...]:
        return (
            self.status,
            self.fom,
            self.started,
            self.ended,
            self.duration,
            self.offset,
            self.length,
            self.curve,
        )

    def _count(self, code: int, step: int) -> None:
        if code in _FAILED:
            self.failed += step
        elif code in _AGAIN:
            self.again += step

    def _row(self, params: dict[str, Any]) -> tuple[Any, ...]:
        if len(params) > len(self.flags) or any(flag not in self._known for flag in params):
            for flag in params:
                if flag not in self._known:
                    self.flags.append(flag)
                    self._known.add(flag)
        texts = self._texts  # one string object per distinct choice, not one per trial
        return tuple(
            texts.setdefault(value, value) if isinstance(value, str) else value
            for value in (params.get(flag, MISSING) for flag in self.flags)
        )

    def _rank(self, row: int, *, maximize: bool) -> None:
        if self.best == row:  # the best trial finished again: look at every row again
            self.best = None
            for other in range(len(self.ids)):
                self._consider(other, maximize=maximize)
        else:
            self._consider(row, maximize=maximize)

    def _consider(self, row: int, *, maximize: bool) -> None:
        best = self.best
        if not self.ok(row):
            return
        if best is None or (
            self.fom[row] > self.fom[best] if maximize else self.fom[row] < self.fom[best]
        ):
            self.best = row

    def ok(self, row: int) -> bool:
        """Ran to its end with a finite FoM (:attr:`Trial.ok`)."""
        return self.status[row] == _OK and math.isfinite(self.fom[row])

    def params_of(self, row: int) -> dict[str, Any]:
        """The trial's parameters, as the journal had them."""
        return {
            flag: value
            for flag, value in zip(self.flags, self.params[row], strict=False)
            if value is not MISSING
        }

    def trial(self, row: int) -> Trial:
        """A light :class:`Trial` of the row (no command, curve or metrics: see
        :meth:`record`)."""
        objectives = {}
        if self.objectives:
            objectives = dict(zip(self.objectives, self.objective_values[row], strict=True))
        return Trial(
            id=self.ids[row],
            params=self.params_of(row),
            fom=self.fom[row],
            status=STATUSES[self.status[row]],
            started=self.started[row],
            ended=self.ended[row],
            duration=self.duration[row],
            error=self.errors.get(row, ""),
            objectives=objectives,
        )

    def record(self, journal: Path, row: int) -> Record:
        """The trial's whole record, read back from ``journal``."""
        length = self.length[row]
        with os.fdopen(os.open(journal, os.O_RDONLY), "rb") as handle:
            handle.seek(self.offset[row])
            data = handle.read(length)
        record: Record = json.loads(data)
        return record
