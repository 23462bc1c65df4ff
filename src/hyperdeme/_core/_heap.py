"""Keeping a big replay out of Python's cyclic garbage collector.

Resuming 20,000 trials builds a few hundred thousand objects (the journal's
records, the trials, the strategy's history) in a worker thread. The thread is
no help against the collector: a collection holds the GIL whichever thread
triggered it, and as the heap grows by a quarter, a *full* one runs and walks every
object of the process. Measured (issue 26): four full collections of 17-121 ms
while one resume ran, each a stall of the caller's event loop, and the first full
collection after the resume another.

So while a run opens its journal, full collections wait (the oldest generation's
threshold is raised; the young generations are still collected, so a cycle made
meanwhile is still found), and once the replay is done, what it built is moved to
the collector's permanent generation (:func:`gc.freeze`): the replayed trials live
as long as the run, and no later collection walks them. At the run's end (the last
run of the process to end, when several share it) they are given back
(:func:`gc.unfreeze`).

A read that hands its trials to the caller (:func:`hyperdeme.aread_journal`) gets
only the first half (:func:`full_collections_deferred`): no full collection while it
reads, nothing frozen after, because what it built belongs to the caller and is
freed whenever the caller drops it. Freezing there would cost the caller more than
it saves: every object of the application alive at that moment (a server's tasks,
its frames) would be frozen for good, and a cycle through one of them that dies
later never freed. The caller's process pays for holding 20,000 trials (two
objects the collector tracks each: the trial and its candidate; their dicts of
plain values are untracked) as for any objects it holds: its next full
collection walks them, wherever that comes.

What a run's freeze costs the application: objects of its own alive at that moment are
frozen too, so a cycle among them that dies during the run is freed at the run's
end, not before (objects without cycles are freed as always, by reference
counting). An application that froze objects itself (:func:`gc.freeze` before
forking workers) keeps them frozen: hyperdeme then never unfreezes.

Hand-written: the collector's knobs are the standard library's, and no library
wraps them for this.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ._full_threshold import raised_full_threshold

__all__ = ["DEFERRED_THRESHOLD", "full_collections_deferred", "replay_heap"]

#: the oldest generation's threshold while a journal is replayed (gen-1 collections
#: between two full ones: never reached by a replay)
DEFERRED_THRESHOLD = 1_000_000

_LOCK = threading.Lock()
#: runs holding, whether the application had frozen objects before the first run,
#: whether a run froze any
_state = {"runs": 0, "host_froze": 0, "froze": 0}


@contextmanager
def replay_heap() -> Iterator[ReplayHeap]:
    """For one run, from its opening to its end: full collections wait until
    :meth:`ReplayHeap.replayed` (called once the journal is replayed, or on leaving),
    which freezes what was built; the last run of the process to leave unfreezes."""
    with _LOCK:
        if _state["runs"] == 0:
            _state["host_froze"] = gc.get_freeze_count() > 0
        _state["runs"] += 1
    heap = ReplayHeap()
    try:
        yield heap
    finally:
        heap.replayed(freeze=False)
        with _LOCK:
            _state["runs"] -= 1
            if _state["runs"] == 0 and _state["froze"] and not _state["host_froze"]:
                gc.unfreeze()
                _state["froze"] = 0


@contextmanager
def full_collections_deferred() -> Iterator[None]:
    """No full collection while inside (the young generations are still collected);
    the oldest generation's threshold is given back on leaving, once nobody else in
    the process (a run's replay, another read, a running run) still raises it."""
    with raised_full_threshold(DEFERRED_THRESHOLD):
        yield


class ReplayHeap:
    """One run's hold on the collector (see :func:`replay_heap`)."""

    def __init__(self) -> None:
        self._deferring = True
        self._deferral = full_collections_deferred()
        self._deferral.__enter__()

    def replayed(self, *, freeze: bool = True) -> None:
        """The replay is done: what it built is frozen (with ``freeze``), and full
        collections run again. Once; later calls do nothing."""
        if not self._deferring:
            return
        self._deferring = False
        if freeze:
            with _LOCK:
                gc.freeze()
                _state["froze"] = 1
        self._deferral.__exit__(None, None, None)
