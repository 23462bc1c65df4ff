"""``SlotNumbers``: each running trial's ``HYPERDEME_SLOT``, the lowest number free.

A trial is given the lowest number no running trial holds, so under a
scheduler of ``slots`` the numbers are ``0 .. slots - 1`` and a program may
use one to pick a port or a scratch directory. Finding that number by
scanning the running trials cost every trial O(slots): at 4,000 slots it was
the driver's largest single cost (13 % of its samples, 100 us a trial). Here
the numbers given back wait in a heap (:mod:`heapq`), so taking and giving
back cost O(log slots); a number never given out yet comes from a counter.
"""

from __future__ import annotations

import heapq

__all__ = ["SlotNumbers"]


class SlotNumbers:
    """Hands out the lowest number not held; :meth:`give_back` frees one."""

    __slots__ = ("_free", "_next")

    def __init__(self) -> None:
        #: numbers below ``_next`` not held now (a heap: the lowest first)
        self._free: list[int] = []
        self._next = 0

    def take(self) -> int:
        if self._free:
            return heapq.heappop(self._free)
        number = self._next
        self._next += 1
        return number

    def give_back(self, number: int) -> None:
        heapq.heappush(self._free, number)
