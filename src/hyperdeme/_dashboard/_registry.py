"""The experiments a dashboard serves: found by the scan, each read by its follower.

Reading is done in a worker thread (the first read of a large journal takes a
while; the event loop keeps serving), one refresh of an experiment at a time,
and at most once per :data:`FRESH` seconds however many pages ask.

:meth:`Registry.prefetch` reads every experiment once when the server starts, so
the first page opened finds a large journal read (100,000 trials take seconds to
read, once: later looks read only the new bytes).
"""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import anyio.to_thread

from ._follow import Follower
from ._scan import experiment_dirs

__all__ = ["Registry"]

#: seconds a refresh stays fresh
FRESH = 0.5


class Registry:
    """The experiments under ``run_path``, by name."""

    def __init__(self, run_path: Path) -> None:
        self.run_path = run_path
        self._followers: dict[str, Follower] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._read_at: dict[str, float] = {}

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
        """The experiment called ``name``, read up to now; None when there is none."""
        if name not in self._followers and name not in self.names():
            return None
        follower = self._followers[name]
        async with self._locks[name]:
            if time.monotonic() - self._read_at.get(name, -FRESH) >= FRESH:
                await anyio.to_thread.run_sync(follower.refresh)
                self._read_at[name] = time.monotonic()
        return follower

    async def prefetch(self) -> None:
        """Read every experiment there now (the server's start: in the background)."""
        for name in self.names():
            await self.get(name)
