"""Sinks the engine gives launchers: each writes a stream to a trial's log file.

The stdout sink also feeds a :class:`~._metrics.MetricScanner`; the
stderr sink keeps a short tail for error messages. Both are synchronous: a
chunk write to a local file is cheaper than a thread hop.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from .._core._closing import Closing
from .._core._nofollow import new_file
from ..launchers import Tail
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

    def write(self, data: bytes) -> None:
        if self._file is not None:
            self._file.write(data)
        if self.scanner is not None:
            self.scanner.feed(data)
        self._tail.write(data)

    @property
    def tail(self) -> str:
        return self._tail.text

    def close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
