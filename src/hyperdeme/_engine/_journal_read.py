"""Reading a journal: one reader, one policy, for the library and the command.

Every reader of a journal goes through :func:`read_records`: resuming an
experiment, :func:`hyperdeme.read_journal`, and the command's ``status``,
``best``, ``export`` and ``report``. So they all give the same answer, and on a
damaged journal the same error.

The policy:

* A last line without its newline was never acknowledged (its writer died in
  the middle of it, or is writing it right now): it is skipped with a
  :class:`~hyperdeme.HyperdemeWarning`, and a resumed run cuts it off (see
  :mod:`._journal`). A crash mid-write always leaves a readable journal.
  Blank lines are skipped.
* Any other line hyperdeme could not have written is refused: a
  :class:`~hyperdeme.JournalError` names the file, the line number and what is
  wrong with it (not JSON, not an object, a newer schema, a record without an
  integer id, a field of the wrong type, an unknown status, a trial started or
  finished twice, a ``trial`` record of an experiment whose id no ``started``
  record asked for). Skipping such a line would quietly change the answer: a
  skipped result runs again on resume (or a foreign one is ranked best by
  ``status``), and a skipped ``started`` record shifts every later ask of the
  replayed strategy. A journal edited by hand or damaged is fixed by its owner,
  who now knows where: correct the line, or cut the journal before it (the
  trials after it then run again on resume).

Records of a type this version does not know are passed on, for the caller to
ignore (a newer hyperdeme may add some).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from .._core._direction import Direction
from .._core._errors import HyperdemeWarning, JournalError
from .._core._pacing import Pacer, paced
from .._core._trial import Candidate, Status, Trial

__all__ = [
    "JOURNAL_NAME",
    "SCHEMA",
    "JournalTail",
    "Record",
    "journal_file",
    "read_direction",
    "read_journal",
    "read_objectives",
    "read_records",
    "read_trials",
]

SCHEMA = 2
JOURNAL_NAME = "trials.jsonl"

Record = dict[str, Any]

#: endings after which a trial runs again (a later ``trial`` record of its id is no duplicate)
_RERUN = frozenset({Status.CANCELLED.value, Status.INTERRUPTED.value})


def journal_file(path: str | os.PathLike[str]) -> Path:
    """The journal of a run directory, or ``path`` itself if it is a file."""
    file = Path(path)
    return file / JOURNAL_NAME if file.is_dir() else file


def read_records(path: str | os.PathLike[str]) -> Generator[Record, None, None]:
    """Every record of a journal, in order, checked (see the module docstring).

    Raises :class:`~hyperdeme.JournalError` at the first line hyperdeme could not
    have written; a torn last line is skipped with a warning.
    """
    file = journal_file(path)
    checker = _Checker(file)
    with file.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith(b"\n"):  # only the last line can lack it
                warnings.warn(
                    f"{file}: skipped line {number}: unfinished (its writer died in the "
                    "middle of it, or is writing it now).",
                    HyperdemeWarning,
                    stacklevel=2,
                )
                return
            if line.strip():
                yield checker.check(number, line)


class JournalTail:
    """A journal read as it grows: each :meth:`read` gives the records of the lines
    written since the last one, checked as :func:`read_records` checks them (the same
    checker, so the same errors).

    Only new bytes are read. A last line without its newline is left where it is, to be
    read whole once its writer ends it (a live journal's torn line is one being
    written). For readers that follow a run (``hyperdeme serve``); it never writes.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.file = journal_file(path)
        self.offset = 0  # bytes consumed: up to the end of the last whole line
        self._number = 0
        self._checker = _Checker(self.file)

    def read(self, *, max_bytes: int = -1) -> list[Record]:
        """The records of the whole lines added since the last call (raises
        :class:`~hyperdeme.JournalError` at a line hyperdeme could not have written);
        with ``max_bytes``, of those within the next ``max_bytes`` (one line at least),
        so a large journal can be taken in parts; empty when nothing whole is new."""
        return [record for _, _, record in self.read_placed(max_bytes=max_bytes)]

    def read_placed(self, *, max_bytes: int = -1) -> list[tuple[int, int, Record]]:
        """As :meth:`read`, each record with its line's offset in the file and length
        (newline excluded): a reader that keeps only a summary reads one back later."""
        with self.file.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read(max_bytes)
            while max_bytes > 0 and b"\n" not in data:
                more = handle.read(max_bytes)  # a line longer than max_bytes: take it whole
                if not more:
                    break
                data += more
        end = data.rfind(b"\n") + 1
        records = []
        for line in data[:end].split(b"\n")[:-1]:
            if line.strip():
                record = self._checker.check(self._number + 1, line)
                records.append((self.offset, len(line), record))
            self._number += 1
            self.offset += len(line) + 1
        return records


class _Checker:
    """What the lines read so far said: which trials started, which finished where."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.experiment = False  # the first record is an experiment's header
        self.started: dict[int, int] = {}  # id -> line
        self.finished: dict[int, int] = {}  # id -> line of its final record

    def check(self, number: int, line: bytes) -> Record:
        try:
            record = self._record(number, line)
        except _Bad as bad:
            raise JournalError(
                f"{self.file}, line {number}: {bad}. hyperdeme writes no such line: the "
                "journal was edited or damaged. Correct that line, or cut the journal "
                "before it (the trials after it then run again on resume).",
                filename=str(self.file),
                line=number,
            ) from None
        return record

    def _record(self, number: int, line: bytes) -> Record:
        try:
            record = json.loads(line)
        except ValueError as error:
            raise _Bad(f"not JSON ({error})") from None
        if not isinstance(record, dict):
            raise _Bad(f"not a JSON object but {_kind(record)}")
        schema = record.get("schema", 1)
        if type(schema) is not int or schema not in (1, SCHEMA):
            raise _Bad(f"schema {schema!r}, which this hyperdeme does not know (a newer one?)")
        if schema == 1:
            record = {"type": "trial", **record}
        kind = record.get("type")
        if number == 1 and kind == "experiment":
            self.experiment = True
        if kind in ("started", "trial", "interrupted"):
            trial_id = record.get("id")
            if type(trial_id) is not int:
                raise _Bad(f"a {kind} record whose id is {trial_id!r}, not an integer")
            getattr(self, f"_{kind}")(number, trial_id, record, schema)
        elif kind == "experiment":
            _experiment(record)
        elif not isinstance(kind, str):
            raise _Bad(f"a record without a type (type: {kind!r})")
        return record

    def _started(self, number: int, trial_id: int, record: Record, schema: int) -> None:
        for field in ("genes", "info"):
            if not isinstance(record.get(field, {}), dict):
                raise _Bad(f"trial {trial_id}'s {field} is {_kind(record[field])}, not an object")
        if trial_id in self.started:
            raise _Bad(f"trial {trial_id} was started already, on line {self.started[trial_id]}")
        self.started[trial_id] = number

    def _trial(self, number: int, trial_id: int, record: Record, schema: int) -> None:
        for field, (required, valid, wanted) in _TRIAL_FIELDS.items():
            if field not in record:
                if required:
                    raise _Bad(f"trial {trial_id}'s record has no {field!r}")
                continue
            if not valid(record[field]):
                raise _Bad(f"trial {trial_id}'s {field!r} is {record[field]!r}, not {wanted}")
        if schema == SCHEMA and self.experiment and trial_id not in self.started:
            raise _Bad(
                f"a result for trial {trial_id}, which no earlier 'started' record asked for "
                "(a line of another experiment's journal?)"
            )
        if schema == SCHEMA and trial_id in self.finished:
            raise _Bad(f"trial {trial_id} finished already, on line {self.finished[trial_id]}")
        if record["status"] not in _RERUN:
            self.finished[trial_id] = number

    def _interrupted(self, number: int, trial_id: int, record: Record, schema: int) -> None:
        """Written on resume for a trial that was running: nothing to check but its id."""


class _Bad(Exception):
    """What is wrong with a line (becomes a JournalError naming it)."""


def _experiment(record: Record) -> None:
    fingerprint = record.get("fingerprint")
    if not isinstance(fingerprint, dict):
        raise _Bad(f"an experiment record whose fingerprint is {_kind(fingerprint)}")
    if "seed" in fingerprint and type(fingerprint["seed"]) is not int:
        raise _Bad(f"the experiment's seed is {fingerprint['seed']!r}, not an integer")
    if fingerprint.get("direction", "minimize") not in ("minimize", "maximize"):
        raise _Bad(
            f"the experiment's direction is {fingerprint['direction']!r}, "
            "not 'minimize' or 'maximize'"
        )


def _kind(value: object) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


def _number(value: object) -> bool:
    """A float as :meth:`Trial.to_json` writes one: a number, or ``"inf"``, ``"nan"``..."""
    if type(value) in (int, float):
        return True
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _integer(value: object) -> bool:
    return type(value) is int


def _numbers(value: object) -> bool:
    return isinstance(value, dict) and all(_number(v) for v in value.values())


def _steps(value: object) -> bool:
    """Intermediate FoMs by step: JSON keys are strings, each an integer."""
    return isinstance(value, dict) and _numbers(value) and all(_step(k) for k in value)


def _step(key: object) -> bool:
    try:
        int(str(key))
    except ValueError:
        return False
    return True


#: the statuses a trial record may have (a set made once: read per line of a large journal)
_STATUSES = frozenset(s.value for s in Status)

#: a trial record's fields: whether required, a check, and what the check wants
_TRIAL_FIELDS: dict[str, tuple[bool, Callable[[object], bool], str]] = {
    "params": (True, lambda v: isinstance(v, dict), "an object"),
    "fom": (True, _number, "a number"),
    "status": (True, lambda v: v in _STATUSES, f"one of {[*Status]}"),
    "metrics": (False, _numbers, "an object of numbers"),
    "attempts": (False, _integer, "an integer"),
    "returncode": (False, lambda v: v is None or _integer(v), "an integer or null"),
    "started": (False, _number, "a number"),
    "ended": (False, _number, "a number"),
    "duration": (False, _number, "a number"),
    "info": (False, lambda v: isinstance(v, dict), "an object"),
    "error": (False, lambda v: isinstance(v, str), "a string"),
    "command": (False, lambda v: isinstance(v, str), "a string"),
    "nodes": (False, _integer, "an integer"),
    "steps": (False, _integer, "an integer"),
    "intermediate": (False, _steps, "an object of numbers by step"),
    "objectives": (False, _numbers, "an object of numbers"),
}


def read_direction(path: str | os.PathLike[str]) -> Direction:
    """Whether the experiment of a journal (or of a run directory holding one) minimises
    or maximises its FoM, as its first record, the fingerprint, says (a journal
    without one, or written before directions existed, minimises)."""
    records = read_records(path)
    try:
        header = next(records, None)
    finally:
        records.close()
    fingerprint = header.get("fingerprint") if header is not None else None
    direction = fingerprint.get("direction") if isinstance(fingerprint, dict) else None
    return "maximize" if direction == "maximize" else "minimize"


def read_objectives(path: str | os.PathLike[str]) -> dict[str, Direction]:
    """The objectives of the experiment of a journal and their directions, as its
    fingerprint records them (empty for one FoM, and for journals without them)."""
    records = read_records(path)
    try:
        header = next(records, None)
    finally:
        records.close()
    fingerprint = header.get("fingerprint") if header is not None else None
    found = fingerprint.get("objectives") if isinstance(fingerprint, dict) else None
    if not isinstance(found, dict):
        return {}
    return {
        str(name): "maximize" if direction == "maximize" else "minimize"
        for name, direction in found.items()
    }


def read_journal(path: str | os.PathLike[str]) -> list[Trial]:
    """The finished trials of a journal file (or of a run directory holding one).

    One trial per id: the last record of each (a trial cancelled and run again
    on resume appears once, finished), in the order those records were
    written. Each trial's ``candidate`` holds every gene. Raises
    :class:`~hyperdeme.JournalError` naming the line when a line is not a record
    hyperdeme could have written; a torn last line is skipped with a warning
    (see :mod:`hyperdeme._engine._journal_read`).
    """
    finished, _ = read_trials(path)
    return finished


def read_trials(
    path: str | os.PathLike[str], *, pacer: Pacer | None = None
) -> tuple[list[Trial], set[int]]:
    """What :func:`read_journal` returns, and the ids of every trial started (finished
    or not: ``hyperdeme status`` tells running and interrupted trials from them).

    With a ``pacer`` (reading in a worker thread), the reading pauses every few
    milliseconds so the event loop's thread gets the GIL (see :mod:`.._core._pacing`).
    """
    genes: dict[int, Candidate] = {}
    finished: dict[int, Trial] = {}
    records = read_records(path)
    for record in records if pacer is None else paced(records, pacer):
        kind = record.get("type")
        if kind == "started":
            genes[record["id"]] = Candidate(
                dict(record.get("genes", {})), dict(record.get("info", {}))
            )
        elif kind == "trial":
            trial = Trial.from_json(record)  # checked: cannot fail
            trial.candidate = genes.get(trial.id) or Candidate(dict(trial.params), dict(trial.info))
            finished.pop(trial.id, None)  # re-inserted last: the order of final records
            finished[trial.id] = trial
    return list(finished.values()), set(genes)
