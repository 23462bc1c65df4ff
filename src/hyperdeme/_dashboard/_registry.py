"""The experiments a dashboard serves: found by the scan, each read by its follower.

A journal is read in slices (:meth:`Follower.read_slice`), each in a worker thread
under the experiment's lock; every view of an experiment is made under the same
lock (:meth:`Registry.view`), so a view never sees a slice half taken, and a page
asked while a large journal is read waits for :data:`HOLD` seconds at most, not the
whole read. A look at a journal happens at most once per :data:`FRESH` seconds however
many pages ask.

When the server starts, :meth:`Registry.start` reads every experiment in the
background, all at once. A page asked meanwhile is answered with what was read so far (its
summary says ``reading``); the page updates itself as the read goes on. A page
asking for an experiment nobody reads yet reads it for up to :data:`BUDGET`
seconds and leaves the rest to a background task (when the server has given the
registry its task group; else it reads it whole, as ``hyperdeme list`` does).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio
import anyio.abc
import anyio.to_thread

from ._follow import Follower, Summary
from ._scan import experiment_dirs

__all__ = ["Registry"]

#: seconds a look at a journal stays fresh
FRESH = 0.5
#: seconds a request spends reading a journal before leaving the rest to the background
BUDGET = 0.3

#: seconds a read holds an experiment's lock at most (and one slice): what a page waits
HOLD = 0.05
#: worker threads the background reads share (more would only share the GIL)
READERS = 2

T = TypeVar("T")


def _read_for(follower: Follower, seconds: float) -> bool:
    """Slices of ``follower`` for ``seconds`` (in a worker thread); True when more is left."""
    end = time.monotonic() + seconds
    while (more := follower.read_slice()) and time.monotonic() < end:
        pass
    return bool(more)


class Registry:
    """The experiments under ``run_path``, by name. ``background``: the task group the
    rest of a long read runs in (the server's, set by its lifespan)."""

    def __init__(self, run_path: Path) -> None:
        self.run_path = run_path
        self.background: anyio.abc.TaskGroup | None = None
        self._followers: dict[str, Follower] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._read_at: dict[str, float] = {}
        self._reading: set[str] = set()  # names a background task is reading
        self._limiter: anyio.CapacityLimiter | None = None  # the background's threads

    def names(self) -> list[str]:
        """The experiments there now (a new one appears, a removed one goes)."""
        found = {d.name: d for d in experiment_dirs(self.run_path)}
        for name in list(self._followers):
            if name not in found:
                del self._followers[name]
        for name, directory in found.items():
            if name not in self._followers:
                self._followers[name] = Follower(directory)
                self._locks[name] = anyio.Lock()
        return sorted(found)

    async def get(self, name: str) -> Follower | None:
        """The experiment called ``name``, read up to now (or, while a background task
        reads it, as far as it got); None when there is none."""
        if name not in self._followers and name not in self.names():
            return None
        follower = self._followers[name]
        if name in self._reading:
            return follower
        if time.monotonic() - self._read_at.get(name, -FRESH) < FRESH:
            return follower
        deadline = time.monotonic() + BUDGET
        while await self._slice(follower):
            if self.background is not None and time.monotonic() > deadline:
                self._reading.add(name)
                self.background.start_soon(self._catch_up, follower)
                return follower
        self._read_at[name] = time.monotonic()
        return follower

    async def _slice(
        self, follower: Follower, limiter: anyio.CapacityLimiter | None = None
    ) -> bool:
        """Read slices for up to :data:`HOLD` seconds (one at least); True when more is
        left. Not one slice per trip to the worker thread: on a loaded machine each trip
        waits for the scheduler (a 100,000-trial journal's read took 1.5 times as long)."""
        async with self._locks[follower.name]:
            return await anyio.to_thread.run_sync(_read_for, follower, HOLD, limiter=limiter)

    async def _catch_up(self, follower: Follower) -> None:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(READERS)
        try:
            while await self._slice(follower, self._limiter):  # anyio's lock is fair: a
                pass  # page waiting for it gets it between two holds
        finally:
            self._reading.discard(follower.name)
            self._read_at[follower.name] = time.monotonic()

    async def view(self, follower: Follower, make: Callable[[Follower], T]) -> T:
        """``make(follower)``, in a worker thread, under the experiment's lock."""
        async with self._locks[follower.name]:
            return await anyio.to_thread.run_sync(make, follower)

    def summary(self, follower: Follower) -> Summary:
        """The experiment's summary now (``reading`` while a background task reads it;
        no lock: a summary waits for no slice)."""
        return follower.summary(reading=follower.name in self._reading)

    def start(self, group: anyio.abc.TaskGroup) -> None:
        """The server's start: read every experiment there now in ``group``, all at once
        (:data:`READERS` worker threads), each marked ``reading`` before this returns:
        a page asked after it waits for none of them. ``group`` also takes the rest of
        a long read a page began (:attr:`background`)."""
        self.background = group
        for follower in self._unread():
            group.start_soon(self._catch_up, follower)

    async def prefetch(self) -> None:
        """Read every experiment there now, all at once, and return when they are read."""
        async with anyio.create_task_group() as group:
            for follower in self._unread():
                group.start_soon(self._catch_up, follower)

    def _unread(self) -> list[Follower]:
        """The experiments no background task reads, now marked as read by one."""
        names = [name for name in self.names() if name not in self._reading]
        self._reading.update(names)
        return [self._followers[name] for name in names]
