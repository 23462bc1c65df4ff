"""Pack evaluations that need different node counts into a fixed set of nodes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from ._errors import ConfigError

__all__ = ["NodePool"]


class NodePool:
    """``capacity`` interchangeable nodes; ``async with pool.hold(k)`` waits for k free.

    Waiters are served first-fit in arrival order: when nodes free up, every
    waiter whose request fits now is admitted, so small evaluations backfill
    around a large one instead of leaving nodes idle. Never oversubscribes.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ConfigError(f"a node pool needs at least 1 node, got {capacity}.")
        self.capacity = capacity
        self.free = capacity
        self._waiters: list[tuple[int, anyio.Event]] = []

    @asynccontextmanager
    async def hold(self, nodes: int) -> AsyncIterator[None]:
        if nodes > self.capacity:
            raise ConfigError(
                f"an evaluation needs {nodes} nodes but only {self.capacity} are available; "
                "lower nodes_per_eval or request a larger allocation."
            )
        await self._acquire(nodes)
        try:
            yield
        finally:
            self.free += nodes
            self._wake()

    async def _acquire(self, nodes: int) -> None:
        if self.free >= nodes:  # every waiter needs more than is free: first fit
            self.free -= nodes
            return
        entry = (nodes, anyio.Event())
        self._waiters.append(entry)
        try:
            await entry[1].wait()
        except BaseException:
            if entry in self._waiters:
                self._waiters.remove(entry)
            elif entry[1].is_set():  # admitted, then cancelled: give the nodes back
                self.free += nodes
                self._wake()
            raise

    def _wake(self) -> None:
        for entry in list(self._waiters):
            nodes, event = entry
            if nodes <= self.free:
                self.free -= nodes
                self._waiters.remove(entry)
                event.set()
