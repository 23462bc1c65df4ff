"""``await aread_journal(path)``: :func:`~hyperdeme.read_journal` off the event loop.

Reading a journal of 20,000 trials takes a third of a second of parsing: in an
application's event loop (a dashboard's endpoint, a notebook cell next to a
running optimization) that is a third of a second in which nothing else runs.
This reads it in a worker thread from the run's file-work limiter
(:mod:`._files`), not anyio's default one, paced (:mod:`.._core._pacing`): a
thread parsing without pause held the GIL for up to 195 ms at a time.
"""

from __future__ import annotations

import os

from .._core._pacing import Pacer
from .._core._trial import Trial
from ._files import off_loop
from ._journal_read import read_trials

__all__ = ["aread_journal"]


async def aread_journal(path: str | os.PathLike[str]) -> list[Trial]:
    """:func:`~hyperdeme.read_journal`, awaited: the same trials, read in a worker thread
    so the caller's event loop keeps running meanwhile."""
    return await off_loop(_read_paced, path)


def _read_paced(path: str | os.PathLike[str]) -> list[Trial]:
    finished, _ = read_trials(path, pacer=Pacer())
    return finished
