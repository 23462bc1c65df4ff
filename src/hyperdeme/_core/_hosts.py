"""A pool of hosts handed out to concurrent evaluations, first fit in arrival order.

One primitive for every place that packs evaluations needing different node
counts into a fixed set of nodes: the engine's node accounting, the Slurm
launcher's hosts of an allocation, the PBS launcher's hosts of a job. A host
is any hashable label (a host name, or a node number when nodes are
interchangeable).

``async with pool.hold(k) as hosts`` waits until ``k`` hosts are free and
gives them back on exit, whatever the exit. Waiters are served in arrival
order, first fit: when hosts free up, every waiter whose request fits now is
admitted, so small evaluations backfill around a large one instead of leaving
nodes idle. Hosts never go to two evaluations at once. A host can be taken
out of service (``retire``, a dead node) and put back (``restore``); a request
that can no longer be met by the hosts in service fails with
:class:`PoolTooSmall` instead of waiting forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable, Iterable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

import anyio

__all__ = ["HostPool", "PoolTooSmall"]

H = TypeVar("H", bound=Hashable)


class PoolTooSmall(Exception):
    """A request for more hosts than the pool has in service."""

    def __init__(self, wanted: int, in_service: int) -> None:
        super().__init__(f"{wanted} hosts wanted, {in_service} in service")
        self.wanted = wanted
        self.in_service = in_service


class _Waiter(Generic[H]):
    __slots__ = ("count", "event", "hosts", "too_small")

    def __init__(self, count: int) -> None:
        self.count = count
        self.event = anyio.Event()
        self.hosts: list[H] | None = None
        self.too_small = False


class HostPool(Generic[H]):
    """See the module docstring."""

    def __init__(self, hosts: Iterable[H]) -> None:
        self.hosts: tuple[H, ...] = tuple(dict.fromkeys(hosts))
        self._free: list[H] = list(self.hosts)  # in the pool's order
        self._retired: set[H] = set()
        self._held: set[H] = set()
        self._waiters: list[_Waiter[H]] = []

    @property
    def in_service(self) -> int:
        """Hosts not retired, busy or free."""
        return len(self.hosts) - len(self._retired)

    @property
    def free(self) -> int:
        return len(self._free)

    @property
    def retired(self) -> frozenset[H]:
        return frozenset(self._retired)

    @asynccontextmanager
    async def hold(self, count: int) -> AsyncIterator[list[H]]:
        """Wait for ``count`` free hosts; hand them back on leaving the block."""
        hosts = await self.take(count)
        try:
            yield hosts
        finally:
            self.give_back(hosts)

    async def take(self, count: int) -> list[H]:
        """Wait for ``count`` free hosts and take them (give them back with
        :meth:`give_back`). Raises :class:`PoolTooSmall` when fewer are in service."""
        if count > self.in_service:
            raise PoolTooSmall(count, self.in_service)
        if len(self._free) >= count:  # every waiter wants more than is free: first fit
            return self._pop(count)
        waiter: _Waiter[H] = _Waiter(count)
        self._waiters.append(waiter)
        try:
            await waiter.event.wait()
        except BaseException:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif waiter.hosts is not None:  # admitted, then cancelled: give them back
                self.give_back(waiter.hosts)
            raise
        if waiter.too_small:
            raise PoolTooSmall(count, self.in_service)
        assert waiter.hosts is not None
        return waiter.hosts

    def give_back(self, hosts: Iterable[H]) -> None:
        for host in hosts:
            self._held.discard(host)
            if host not in self._retired and host not in self._free:
                self._free.append(host)
        self._free.sort(key=self.hosts.index)
        self._wake()

    def retire(self, hosts: Iterable[H]) -> None:
        """Take ``hosts`` out of service (busy ones are not given out again)."""
        for host in hosts:
            if host in self.hosts:
                self._retired.add(host)
                if host in self._free:
                    self._free.remove(host)
        self._wake()

    def restore(self, hosts: Iterable[H]) -> None:
        """Put retired ``hosts`` back into service (free, unless still held)."""
        back = [host for host in hosts if host in self._retired]
        self._retired.difference_update(back)
        self.give_back(host for host in back if host not in self._held)

    def _pop(self, count: int) -> list[H]:
        taken, self._free = self._free[:count], self._free[count:]
        self._held.update(taken)
        return taken

    def _wake(self) -> None:
        for waiter in list(self._waiters):
            if waiter.count > self.in_service:
                waiter.too_small = True
            elif waiter.count <= len(self._free):
                waiter.hosts = self._pop(waiter.count)
            else:
                continue
            self._waiters.remove(waiter)
            waiter.event.set()
