"""Sinks the engine gives launchers: each writes a stream to a trial's log file.

The stdout sink also feeds a :class:`~._metrics.MetricScanner`; the
stderr sink keeps a short tail for error messages. Both are synchronous: a
chunk write to a local file is cheaper than a thread hop. A log that cannot be
written (disk full, quota, ``ulimit -f``) never raises into the launcher's
pumps: the sink keeps its :class:`~._machine.LogWriteError` in ``error``, goes on
scanning, and the runner ends the attempt as the machine's failure when the
program has ended.

A sink whose output nobody needs while the program runs (no scanner, or one
that is not ``live``) offers its file's descriptor (:meth:`LogSink.direct`): the
program writes its output there itself, and :meth:`LogSink.catch_up` reads it
back once the program ended (all of it when scanned, the tail otherwise). A disk
that refused the program's writes is not seen by the program's driver: when the
file system has no space left once the program ended and its stdout held no
metric, or when the file is as large as ``ulimit -f`` allows, the sink keeps that
as its ``error`` (the attempt is then the machine's failure, as when the driver's
own write failed).
"""

from __future__ import annotations

import errno
import os
import resource
from pathlib import Path
from typing import BinaryIO

from .._core._closing import Closing
from .._core._nofollow import open_nofollow
from ..launchers import Tail
from ..launchers._tail import TAIL_BYTES
from ._machine import LogWriteError
from ._metrics import MetricScanner

__all__ = ["LogSink"]


class LogSink(Closing):
    """Write a stream to ``path`` (None: keep no file); optionally scan it; keep its tail."""

    def __init__(self, path: Path | None, *, scanner: MetricScanner | None = None) -> None:
        self.path = path
        self.scanner = scanner
        # a new file, never one a planted link points to (see .._core._nofollow); read
        # and write: what the program writes to it directly is read back (see direct)
        self._file: BinaryIO | None = None if path is None else os.fdopen(new_file(path), "wb")
        self._tail = Tail()
        #: bytes of the file heard so far, once the program writes to it itself (else -1)
        self._heard = -1
        #: the file's size once the program ended (-1 before)
        self._size = -1
        #: why the log file could not be written (the program ran on, its output scanned)
        self.error: LogWriteError | None = None

    def write(self, data: bytes) -> None:
        if self._heard >= 0 and self._file is not None:  # after the program's own writes
            self._file.seek(0, os.SEEK_END)
        if self._file is not None and self.path is not None and self.error is None:
            try:
                self._file.write(data)
            except OSError as error:  # the rest is scanned, not written
                self.error = LogWriteError(self.path, error)
        if self.scanner is not None:
            self.scanner.feed(data)
        self._tail.write(data)

    def direct(self) -> int | None:
        """The file's descriptor for the program to write to itself, or None: nobody
        needs its output while it runs (see the module docstring)."""
        if self._file is None or self.error is not None or self._heard >= 0:
            return None
        if self.scanner is not None and self.scanner.live:
            return None
        self._heard = 0
        return self._file.fileno()

    def catch_up(self, limit: int) -> bool:
        """Hear up to ``limit`` more bytes the program wrote to the file; True when done.

        The file's size is taken once, at the first call (the program has ended): a
        trivial program's output costs an ``fstat`` and a ``pread``, an empty stream
        the ``fstat`` alone.
        """
        if self._file is None or self._heard < 0:
            return True
        fd = self._file.fileno()
        if self._size < 0:
            self._size = os.fstat(fd).st_size
            if self.scanner is None:  # only the tail is wanted
                self._heard = max(0, self._size - TAIL_BYTES)
        if self._heard < self._size:
            try:
                data = os.pread(fd, min(limit, self._size - self._heard), self._heard)
            except OSError as error:
                data = b""
                self.error = self.error or LogWriteError(self.path or Path(), error)
            if data:
                self._heard += len(data)
                if self.scanner is not None:
                    self.scanner.feed(data)
                self._tail.write(data)
                return self._heard >= self._size and self._ended()
        return self._ended()

    def _ended(self) -> bool:
        """All heard. A file as large as ``ulimit -f`` allows, or a scanned stream that
        held no metric on a full file system: the program's writes were refused (its
        driver never saw them fail)."""
        assert self._file is not None
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if self.error is None and limit != resource.RLIM_INFINITY and self._size >= limit:
            too_large = OSError(errno.EFBIG, os.strerror(errno.EFBIG))
            self.error = LogWriteError(self.path or Path(), too_large)
        if (
            self.scanner is not None
            and not self.scanner.metrics
            and self.error is None
            and os.fstatvfs(self._file.fileno()).f_bavail == 0
        ):
            no_space = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.error = LogWriteError(self.path or Path(), no_space)
        return True

    @property
    def tail(self) -> str:
        return self._tail.text

    def close(self) -> None:
        if self._file is not None and not self._file.closed and self.path is not None:
            try:
                self._file.close()  # its buffer's last write may fail
            except OSError as error:
                self.error = self.error or LogWriteError(self.path, error)


def new_file(path: Path) -> int:
    """A new, empty ``path`` open for reading and writing (see .._core._nofollow)."""
    return open_nofollow(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, new=True)
