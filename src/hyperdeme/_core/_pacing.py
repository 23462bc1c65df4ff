"""Long Python work in a worker thread that leaves the event loop's thread its turns.

A worker thread doing seconds of pure Python (replaying a journal of 20,000
trials) still holds the GIL while it runs, and the event loop's thread needs
the GIL for each of its wake-ups. CPython hands it over only when asked, after
the switch interval (5 ms), and only if the loop's thread gets a CPU to ask on:
on a loaded two-core machine, measured (issue 26), the loop's thread waited
50-460 ms at a time while the worker went on reading records at full speed.

So such work pauses briefly on its own every few milliseconds
(:data:`WORK_SECONDS`): a real sleep, which releases the GIL *and* the CPU, so the
loop's thread runs whether it was waiting for the one or the other. (``sleep(0)``
gives neither reliably: the releasing thread usually takes the GIL back first.)
The pauses cost about :data:`PAUSE_SECONDS` / :data:`WORK_SECONDS` of the work's
time on an idle machine, more on a loaded one (a sleeping thread waits for a CPU to
come back to): reading 20,000 trials under load 16 on two cores took 3.7-6.4 s
paced every 1 ms, 2.8-5.2 s every 4 ms, 2.0-5.4 s unpaced (four interleaved
rounds). Every 1 ms rather than 4 because the loop got twice the turns: resuming
20,000 trials under that load, the 1 ms ticker's p99 was 37-62 ms against 91-99 ms,
170 ticks a second against 80 (three interleaved pairs; the worst single lag,
133-260 ms against 165-276, is the machine's scheduler either way).

Hand-written: no library paces a thread against the GIL.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["PAUSE_SECONDS", "WORK_SECONDS", "Pacer", "paced"]

T = TypeVar("T")

#: work between two pauses
WORK_SECONDS = 0.001
#: one pause
PAUSE_SECONDS = 0.0002


class Pacer:
    """Call :meth:`tick` often (each step of the work); it pauses when the work ran
    :data:`WORK_SECONDS` since the last pause."""

    def __init__(self) -> None:
        self.pauses = 0
        self._since = time.perf_counter()

    def tick(self) -> None:
        if time.perf_counter() - self._since >= WORK_SECONDS:
            time.sleep(PAUSE_SECONDS)
            self.pauses += 1
            self._since = time.perf_counter()


def paced(items: Iterable[T], pacer: Pacer | None = None) -> Iterator[T]:
    """``items``, with a :meth:`Pacer.tick` before each."""
    pacer = pacer or Pacer()
    for item in items:
        pacer.tick()
        yield item
