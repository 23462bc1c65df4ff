"""Sinks the engine gives launchers: each writes a stream to a trial's log file.

The stdout sink also feeds a :class:`~._metrics.MetricScanner`; the
stderr sink keeps a short tail for error messages. Both are synchronous: a
chunk write to a local file is cheaper than a thread hop. A log that cannot be
written (disk full, quota, ``ulimit -f``) never raises into the launcher's
pumps: the sink keeps its :class:`~._machine.LogWriteError` in ``error``, goes on
scanning, and the runner ends the attempt as the machine's failure when the
program has ended.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from .._core._closing import Closing
from .._core._nofollow import new_file
from ..launchers import Tail
from ._machine import LogWriteError
from ._metrics import MetricScanner

__all__ = ["LogSink"]


class LogSink(Closing):
    """Write a stream to ``path`` (None: keep no file); optionally scan it; keep its tail."""

    def __init__(self, path: Path | None, *, scanner: MetricScanner | None = None) -> None:
        self.path = path
        self.scanner = scanner
        # a new file, never one a planted link points to (see .._core._nofollow)
        self._file: BinaryIO | None = None if path is None else os.fdopen(new_file(path), "wb")
        self._tail = Tail()
        #: why the log file could not be written (the program ran on, its output scanned)
        self.error: LogWriteError | None = None

    def write(self, data: bytes) -> None:
        if self._file is not None and self.path is not None and self.error is None:
            try:
                self._file.write(data)
            except OSError as error:  # the rest is scanned, not written
                self.error = LogWriteError(self.path, error)
        if self.scanner is not None:
            self.scanner.feed(data)
        self._tail.write(data)

    @property
    def tail(self) -> str:
        return self._tail.text

    def close(self) -> None:
        if self._file is not None and not self._file.closed and self.path is not None:
            try:
                self._file.close()  # its buffer's last write may fail
            except OSError as error:
                self.error = self.error or LogWriteError(self.path, error)
