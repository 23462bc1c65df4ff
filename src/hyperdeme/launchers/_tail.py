"""``Tail``: keep the last words of a stream, for error messages."""

from __future__ import annotations

from ._base import OutputSink

__all__ = ["TAIL_BYTES", "Tail", "tail_of"]

#: how much of a stream's end an error message quotes
TAIL_BYTES = 2048


def tail_of(text: str) -> str:
    """The last :data:`TAIL_BYTES` characters of ``text``, stripped."""
    return text.strip()[-TAIL_BYTES:]


class Tail:
    """A sink that keeps the last :data:`TAIL_BYTES` written, passing everything on to
    ``sink`` when there is one."""

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
