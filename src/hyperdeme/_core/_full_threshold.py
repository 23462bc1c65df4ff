"""The oldest generation's collection threshold, raised while hyperdeme asks, shared.

Two parts of hyperdeme make Python's full garbage collections rarer for a while: a
run while it drives its trials (:mod:`.._engine._collections`: at least 100
generation-1 collections per full one, CPython's default being 10) and a journal's
replay or read (:mod:`._heap`: none at all until it is done). They overlap (a
resume's replay inside a run, an ``aread_journal`` beside one), and the application
may set the threshold itself meanwhile. So every holder says the threshold it needs
and this module alone sets the collector's: the highest one held, never below the
application's own value; when the last holder leaves, the application's value is
put back. A value the application set while hyperdeme held its own is the
application's from then on (kept while higher, put back at the end).

Hand-written: the collector's knobs are the standard library's, and no library
shares them between holders.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["raised_full_threshold"]

_LOCK = threading.Lock()
#: threshold -> how many hold it
_held: Counter[int] = Counter()
#: the application's threshold (None while nobody holds one)
_theirs: int | None = None
#: the value this module last set (None: it set none since the last holder left)
_ours: int | None = None


@contextmanager
def raised_full_threshold(threshold: int) -> Iterator[None]:
    """Within the block, the oldest generation's threshold is at least ``threshold``
    (or higher, while another holder or the application asks more)."""
    with _LOCK:
        _held[threshold] += 1
        _apply()
    try:
        yield
    finally:
        with _LOCK:
            _held[threshold] -= 1
            if _held[threshold] == 0:
                del _held[threshold]
            _apply()


def _apply() -> None:
    """Set the collector's threshold from the holders and the application's (lock held)."""
    global _theirs, _ours
    young, middle, full = gc.get_threshold()
    if _theirs is None or (_ours is not None and full != _ours):
        _theirs = full  # before the first holder, or the application set it meanwhile
    wanted = max(_theirs, *_held) if _held else _theirs
    if wanted != full:
        gc.set_threshold(young, middle, wanted)
    if _held:
        _ours = wanted
    else:
        _theirs = _ours = None
