"""Fewer full garbage collections while runs drive their trials.

Measured (issue 23: 20,000 x ``await sleep(0.5)`` on 4,000 slots, ``gc.callbacks``
timing each collection): CPython's full collections (generation 2) took 1.4-1.75 s of
the driver's 4.5 s of CPU, 12 of them, and found 5 objects between them. Every
running trial's coroutines, scopes and records outlive the young generations (they
live as long as the evaluation), so CPython's rule "a full collection once the
long-lived objects grew by 25 %" starts one every ~1,700 trials, and each scans every
live object: every running trial, every finished one the result keeps, every module.
Reference counting frees what a trial leaves behind; cycles are rare and small.

So while a run goes on, the third threshold (full collections after this many
collections of generation 1; CPython's default 10) is at least :data:`FULL_EVERY`;
it is put back when the last run in the process ends, unless someone changed it
meanwhile. Young collections are untouched: cyclic garbage is still found, a full
collection is only rarer (measured: 12 -> 1 in that run, CPU 4.5 -> 3.4-3.8 s).
No library does this: ``gc.freeze`` exempts the objects that exist when it is called,
not the ones a run makes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .._core._full_threshold import raised_full_threshold

__all__ = ["FULL_EVERY", "fewer_full_collections"]

#: collections of generation 1 per full collection while a run goes on (CPython: 10)
FULL_EVERY = 100


@contextmanager
def fewer_full_collections() -> Iterator[None]:
    """Within the block (and any other run's), full collections are rarer: see above;
    shared with a replay's deferral through :mod:`.._core._full_threshold`."""
    with raised_full_threshold(FULL_EVERY):
        yield
