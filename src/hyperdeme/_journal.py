"""The journal: every finished trial, one JSON line, written at once and fsynced.

Appending is the only write, and each record is one ``write`` call made the
moment the trial finishes, so a driver killed with SIGKILL loses at most the
trials still running (the kernel keeps what was written). ``fsync`` guards
against a machine crash too; while a run's :meth:`Journal.keep_synced` task
is running it is done in a worker thread, one ``fsync`` covering every record
written meanwhile (a group commit), so the event loop never waits for the
disk. A torn last line (killed mid-write) is skipped by
:func:`read_journal`; a resumed run first ends it with a newline, so its own
records stay intact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio

from ._closing import Closing
from ._logging import get_logger
from ._trial import Trial

__all__ = ["Journal", "read_journal"]

log = get_logger("hyperdeme.journal")


class Journal(Closing):
    """Append-only writer of ``trials.jsonl``."""

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = path
        self._fsync = fsync
        self._unsynced: anyio.Event | None = None  # set by append while a syncer runs
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        size = os.fstat(self._fd).st_size
        if size and os.pread(self._fd, 1, size - 1) != b"\n":
            # a record torn by a crash: end its line, or the next one would be glued to it
            os.write(self._fd, b"\n")

    def append(self, trial: Trial) -> None:
        """Write one trial durably: a single ``write`` of a whole line, then fsync."""
        line = json.dumps(trial.to_json(), separators=(",", ":"), default=str) + "\n"
        os.write(self._fd, line.encode())
        if not self._fsync:
            return
        if self._unsynced is None:
            os.fsync(self._fd)
        else:
            self._unsynced.set()

    async def keep_synced(self) -> None:
        """fsync in a worker thread after appends, until cancelled (then :meth:`close` syncs)."""
        if not self._fsync:
            return
        self._unsynced = anyio.Event()
        try:
            while True:
                await self._unsynced.wait()
                self._unsynced = anyio.Event()  # appends during the fsync set this one
                await anyio.to_thread.run_sync(os.fsync, self._fd)
        finally:
            self._unsynced = None

    def close(self) -> None:
        if self._fd >= 0:
            if self._fsync:
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1


def read_journal(path: str | os.PathLike[str]) -> list[Trial]:
    """The trials recorded in a journal file (or a run directory holding one), in order."""
    file = Path(path)
    if file.is_dir():
        file = file / "trials.jsonl"
    trials: list[Trial] = []
    with file.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = json.loads(line) if line.endswith(b"\n") else None
            except ValueError:
                record = None
            if record is None:  # torn by a crash (and ended by the resumed run)
                log.warning("journal.torn_line", path=str(file), line=number)
                continue
            trials.append(Trial.from_json(record))
    return trials
