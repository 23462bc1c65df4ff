"""Output the kernel writes straight into a trial's log file: no pipe through the event loop.

A sink that is a file (the engine's trial logs) may offer its descriptor: the
program's stdout or stderr *is* that file, so the program's writes never pass
through the driver. What the driver needs of the output (the FoM scanned from
the whole of it, a tail for error messages) it reads back from the file once the
program has ended. A sink offers its descriptor only when nobody needs the output
while the program runs: with an early-stopping rule each FoM line is a step the
rule judges at once, so such a sink says None and its output is pumped through a
pipe as before.

Measured (``benchmarks/throughput_processes.py``): two pipes, two readers on the
loop and a task group less per trial. Written by hand: it is the protocol between
the engine's sinks and the process launcher, nothing a library holds.
"""

from __future__ import annotations

from typing import Protocol

import anyio.lowlevel

__all__ = ["CATCH_UP_CHUNK", "DirectSink", "catch_up", "direct_fd"]

#: bytes read back per step; the loop runs others' work between steps
CATCH_UP_CHUNK = 1 << 18


class DirectSink(Protocol):
    """A sink the program may write to itself (see the module docstring)."""

    def write(self, data: bytes) -> None: ...

    def direct(self) -> int | None:
        """The descriptor the program may write this stream to, or None: pump it."""

    def catch_up(self, limit: int) -> bool:
        """Hear up to ``limit`` more bytes the program wrote to :meth:`direct`'s
        descriptor (scan them, keep the tail); True once it has heard all of them."""


def direct_fd(sink: object) -> int | None:
    """The descriptor ``sink`` offers for the program to write to itself, or None."""
    direct = getattr(sink, "direct", None)
    return direct() if direct is not None else None


async def catch_up(sink: object) -> None:
    """Once the program ended: let ``sink`` hear what it wrote to the file, step by
    step (a program that printed gigabytes never stalls the loop for long)."""
    step = getattr(sink, "catch_up", None)
    if step is None:
        return
    while not step(CATCH_UP_CHUNK):
        await anyio.lowlevel.checkpoint()
