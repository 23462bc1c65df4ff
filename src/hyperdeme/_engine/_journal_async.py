"""``await aread_journal(path)``: :func:`~hyperdeme.read_journal` off the event loop.

Reading a journal of 20,000 trials takes a third of a second of parsing: in an
application's event loop (a dashboard's endpoint, a notebook cell next to a
running optimization) that is a third of a second in which nothing else runs.
This reads it in a worker thread from the run's file-work limiter
(:mod:`._files`), not anyio's default one, paced (:mod:`.._core._pacing`): a
thread parsing without pause held the GIL for up to 195 ms at a time. And no full
collection of the cyclic garbage collector runs while it reads
(:func:`.._core._heap.full_collections_deferred`): 20,000 trials are 40,000 new
objects the collector tracks, enough to set off one or two full collections, each a
pause of every thread (55-310 ms measured under load) in the middle of the read.
What was read is not frozen (it is the caller's): the caller's next full collection
walks it, as it walks anything the caller holds.
"""

from __future__ import annotations

import os

from .._core._heap import full_collections_deferred
from .._core._pacing import Pacer
from .._core._trial import Trial
from ._files import off_loop
from ._journal_read import read_trials

__all__ = ["aread_journal"]


async def aread_journal(path: str | os.PathLike[str]) -> list[Trial]:
    """:func:`~hyperdeme.read_journal`, awaited: the same trials, read in a worker thread
    so the caller's event loop keeps running meanwhile (paced, and with no full
    collection of the cyclic garbage collector while it reads; the trials are not
    frozen: your process's next full collection walks them, as anything you hold)."""
    return await off_loop(_read_paced, path)


def _read_paced(path: str | os.PathLike[str]) -> list[Trial]:
    with full_collections_deferred():
        finished, _ = read_trials(path, pacer=Pacer())
    return finished
