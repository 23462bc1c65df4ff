"""The journal: the experiment's history, one JSON record per line, append-only.

Every record carries ``"schema": 2`` and a ``"type"``:

``experiment``  first line: the fingerprint of the search space, strategy, seed
                and direction (``minimize``/``maximize``: how status and report rank)
``started``     a trial was asked for: its id, every gene of its candidate, its info
``trial``       a trial finished: :meth:`hyperdeme.Trial.to_json` (status, FoM ...)
``interrupted`` a trial was running when its driver died (written on resume)
``resumed``     a driver took the experiment over

Records appear in the order the strategy saw asks and results, so replaying
``started`` as asks and ``trial`` as tells rebuilds a strategy exactly (resume).
Lines of hyperdeme 0.1 (no ``schema``) are finished trials.

Durability. A record is written whole (one ``write``, completed if the kernel
writes it in pieces; trials that finished together share it: :meth:`Journal.trials`),
before the strategy or the caller hears of the trial: a
driver killed with SIGKILL loses no finished trial (the kernel has the data).
Against an operating-system crash or a power cut, ``fsync`` decides:
``"batch"`` (the default) has a background thread fsync when records are
waiting, at most every 20 ms, one fsync covering all records written meanwhile
(group commit), so the event loop never waits for the disk and such a crash
loses at most the trials finished in the last 20 ms and two fsyncs (tens of
milliseconds on a local disk); ``"always"`` fsyncs each ``trial`` record
before anyone hears of it (slower: the loop waits for the disk every trial);
``"never"`` leaves it to the kernel. When a record cannot be written (disk
full, I/O error), the file is cut back to the end of the previous record and
:class:`~hyperdeme.JournalError` names the file and the cause: every record
before stays readable, and no partial record is left to be mistaken for a
result. A line without its final newline was never acknowledged: reopening the
journal removes it, and readers skip it. Reading, and what a reader refuses, is
:mod:`._journal_read`.

Why JSON lines in one file, not SQLite: the journal must be appendable on the
parallel and network file systems of clusters (where SQLite's locking is
unreliable), readable with ``tail`` and ``jq`` while a run goes on, and cheap
to append (one write for whatever records wait to be written).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from .._core._closing import Closing
from .._core._errors import HyperdemeWarning, JournalError
from .._core._nofollow import open_nofollow
from .._core._trial import Trial
from ._journal_read import JOURNAL_NAME as JOURNAL_NAME
from ._journal_read import SCHEMA as SCHEMA
from ._journal_read import Record as Record
from ._journal_read import journal_file as journal_file
from ._journal_read import read_direction as read_direction
from ._journal_read import read_journal as read_journal
from ._journal_read import read_objectives as read_objectives
from ._journal_read import read_records as read_records
from ._journal_read import read_trials as read_trials

__all__ = [
    "JOURNAL_NAME",
    "SCHEMA",
    "Durability",
    "Journal",
    "Record",
    "journal_file",
    "read_direction",
    "read_journal",
    "read_objectives",
    "read_records",
    "read_trials",
]

Durability = Literal["batch", "always", "never"]


class Journal(Closing):
    """The append-only writer of one experiment's journal (one writer: see :mod:`._lock`)."""

    def __init__(self, path: Path, *, fsync: Durability = "batch") -> None:
        self.path = path
        self._fsync = fsync
        path.parent.mkdir(parents=True, exist_ok=True)
        # never through a link planted in the run directory (.._core._nofollow)
        self._fd = open_nofollow(path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
        self._size = os.fstat(self._fd).st_size
        self._broken: JournalError | None = None
        self._cut_torn_tail()
        self._syncer = _GroupCommit(self._fd) if fsync == "batch" else None
        #: ``started`` records written with the next record
        self._waiting: list[str] = []

    @property
    def empty(self) -> bool:
        return self._size == 0

    def experiment(self, fingerprint: Mapping[str, Any], *, version: str) -> None:
        self._append({"type": "experiment", "fingerprint": fingerprint, "hyperdeme": version})

    def resumed(self, *, finished: int, interrupted: list[int]) -> None:
        self._append(
            {"type": "resumed", "finished": finished, "interrupted": interrupted, **_driver()}
        )

    def started(self, trial: Trial) -> None:
        """A trial was asked for. Kept in memory until :meth:`flush` or the next record
        (one write for all of them; the journal's order stays the strategy's); until then
        its loss only means the trial is asked again, identically, on resume."""
        genes = trial.candidate.params if trial.candidate is not None else trial.params
        record = {"schema": SCHEMA, "type": "started", "id": trial.id, "genes": genes}
        record["info"] = trial.info
        self._waiting.append(_line(record))

    def flush(self) -> None:
        """Write the ``started`` records kept in memory (before the driver waits, so that
        ``hyperdeme status`` sees the trials running)."""
        if self._waiting:
            self._write("", sync=False)

    def interrupted(self, trial_id: int) -> None:
        self._append({"type": "interrupted", "id": trial_id})

    def trial(self, trial: Trial) -> None:
        """A trial finished: written and fsynced before anyone is told."""
        self.trials((trial,))

    def trials(self, trials: Sequence[Trial]) -> None:
        """Trials that finished, in this order: one write for all of them (and with
        ``"always"`` one fsync), before anyone is told of any. All or none of them
        are on file: a failed write cuts the file back to before the first."""
        if trials:
            self._write(
                "".join(_line({"schema": SCHEMA, "type": "trial", **t.to_json()}) for t in trials),
                sync=True,
            )

    def _append(self, record: Record, *, sync: bool = True) -> None:
        self._write(_line({"schema": SCHEMA, **record}), sync=sync)

    def _write(self, lines: str, *, sync: bool) -> None:
        """Write the waiting ``started`` lines and ``lines`` as one all-or-nothing piece."""
        if self._broken is not None:
            raise self._broken
        if self._syncer is not None and self._syncer.error is not None:
            # the records are written (readable) but their durability is unknown
            self._broken = self._fail(self._syncer.error, None)
            raise self._broken from self._syncer.error
        if self._waiting:
            lines = "".join(self._waiting) + lines
            self._waiting.clear()
        data = lines.encode()
        start = self._size
        try:
            written = 0
            while written < len(data):  # the kernel may write a line in pieces
                written += os.write(self._fd, data[written:])
            if sync and self._fsync == "always":
                os.fsync(self._fd)
        except OSError as error:
            self._broken = self._fail(error, start)
            raise self._broken from error
        self._size = start + len(data)
        if sync and self._syncer is not None:
            self._syncer.request(self._size)

    def _fail(self, error: OSError, start: int | None) -> JournalError:
        """Cut the file back to ``start`` (no partial record survives) and describe why."""
        if start is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)
        cause = errno.errorcode.get(error.errno or 0, "error")
        remedy = "free some space" if error.errno == errno.ENOSPC else "fix that"
        message = (
            f"cannot write the journal {self.path}: {error.strerror or error} ({cause}); "
            f"the run stops here with every earlier record intact: {remedy}, then resume."
        )
        return JournalError(message, errno=error.errno, filename=str(self.path))

    def _cut_torn_tail(self) -> None:
        """Remove a last line without its newline: its writer died before acknowledging it."""
        if not self._size or os.pread(self._fd, 1, self._size - 1) == b"\n":
            return
        keep = _last_line_start(self._fd, self._size)
        warnings.warn(
            f"the journal {self.path} ended in an unfinished record ({self._size - keep} "
            "bytes, written by a driver that died); it was removed.",
            HyperdemeWarning,
            stacklevel=3,
        )
        os.ftruncate(self._fd, keep)
        self._size = keep

    def close(self) -> None:
        if self._fd >= 0:
            if self._waiting and self._broken is None:
                with contextlib.suppress(JournalError):
                    self.flush()
            if self._syncer is not None:
                self._syncer.stop()  # the last fsync, then the thread ends
            os.close(self._fd)
            self._fd = -1


#: the least time from the start of one fsync to the next: measured, fsyncs as fast as
#: records came cost an in-process run 40-100 us a trial (the thread and the event loop
#: handing the GIL to each other), 20 ms apart about nothing
_SPACING = 0.02


class _GroupCommit:
    """A thread that fsyncs the journal when records wait, at most every ``_SPACING``
    seconds, one fsync for all of them (see the module docstring). ``synced`` is the
    size known to be on disk.

    The driver only sets the wanted size and, if the thread sleeps, wakes it: the
    event loop never waits for the disk, nor for the thread.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._wanted = self.synced = os.fstat(fd).st_size
        self.error: OSError | None = None
        self._stopping = False
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="hyperdeme journal fsync", daemon=True
        )
        self._thread.start()

    def request(self, size: int) -> None:
        self._wanted = size
        if not self._wake.is_set():
            self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()  # before reading what is wanted: a later request wakes us again
            wanted = self._wanted
            if wanted > self.synced:
                started = time.monotonic()
                try:
                    os.fsync(self._fd)
                except OSError as error:
                    self.error = error
                    return
                self.synced = wanted
                self._stopped.wait(_SPACING - (time.monotonic() - started))
            if self._stopping and self._wanted <= self.synced:
                return


def _line(record: Record) -> str:
    """A record as one journal line."""
    return json.dumps(record, separators=(",", ":"), default=str) + "\n"


def _last_line_start(fd: int, size: int) -> int:
    """Where the file's last line starts: after its last newline, read back 1 MiB at a time."""
    position = size
    while position > 0:
        step = min(position, 1 << 20)
        chunk = os.pread(fd, step, position - step)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return position - step + newline + 1
        position -= step
    return 0


def _driver() -> Record:
    import socket

    return {"host": socket.gethostname(), "pid": os.getpid()}
