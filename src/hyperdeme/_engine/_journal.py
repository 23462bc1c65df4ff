"""The journal: every finished trial, one JSON line, flushed and fsynced.

Appending is the only write, so a driver killed with SIGKILL loses at most
the trials still running. A torn last line (killed mid-write) is skipped by
:func:`read_journal`; a resumed run first ends it with a newline, so its own
records stay intact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .._core._closing import Closing
from .._core._logging import get_logger
from .._core._trial import Trial

__all__ = ["Journal", "read_journal"]

log = get_logger("hyperdeme.journal")


class Journal(Closing):
    """Append-only writer of ``trials.jsonl``."""

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = path
        self._fsync = fsync
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
        if self._fsync:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
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
