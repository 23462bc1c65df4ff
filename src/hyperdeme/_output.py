"""Sinks the engine gives launchers: each writes a stream to a trial's log file.

The stdout sink also feeds a :class:`~hyperdeme._metrics.MetricScanner`; the
stderr sink keeps a short tail for error messages. Both are synchronous: a
chunk write to a local file is cheaper than a thread hop.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from ._closing import Closing
from ._metrics import MetricScanner
from .launchers._base import OutputSink

__all__ = ["LogSink", "Tail"]

TAIL_BYTES = 2048


class Tail:
    """A sink that keeps the last ``TAIL_BYTES`` written (for error messages and for
    classifying failures), passing everything on to ``sink`` when there is one."""

    def __init__(self, sink: OutputSink | None = None) -> None:
        self._sink = sink
        self._tail = b""

    def write(self, data: bytes) -> None:
        if self._sink is not None:
            self._sink.write(data)
        self._tail = (self._tail + data[-TAIL_BYTES:])[-TAIL_BYTES:]

    @property
    def text(self) -> str:
        return self._tail.decode(errors="replace").strip()


class LogSink(Closing):
    """Write a stream to ``path`` (None: keep no file); optionally scan it; keep its tail."""

    def __init__(self, path: Path | None, *, scanner: MetricScanner | None = None) -> None:
        self.path = path
        self.scanner = scanner
        self._file: BinaryIO | None = path.open("wb") if path is not None else None
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
