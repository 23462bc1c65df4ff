"""Packing evaluations of different sizes into a fixed set of hosts (the shared HostPool)."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperdeme._core._hosts import HostPool, PoolTooSmall


class Tracker:
    """Holds nodes on behalf of named tasks until the test releases them."""

    def __init__(self, pool: HostPool[int]) -> None:
        self.pool = pool
        self.holding: dict[str, int] = {}
        self.hosts: dict[str, list[int]] = {}
        self.release: dict[str, anyio.Event] = {}
        self.admitted: list[str] = []
        self.peak = 0

    async def hold(self, name: str, nodes: int) -> None:
        self.release[name] = anyio.Event()
        async with self.pool.hold(nodes) as hosts:
            assert len(hosts) == nodes
            self.hosts[name] = hosts
            assert not set(hosts) & {h for n, hs in self.hosts.items() if n != name for h in hs}
            self.holding[name] = nodes
            self.admitted.append(name)
            used = sum(self.holding.values())
            assert used <= self.pool.in_service
            self.peak = max(self.peak, used)
            await self.release[name].wait()
            del self.holding[name]
            del self.hosts[name]


async def test_requests_that_fit_start_at_once() -> None:
    pool = HostPool(range(4))
    tracker = Tracker(pool)
    async with anyio.create_task_group() as tg:
        for name, nodes in [("a", 1), ("b", 2), ("c", 1)]:
            tg.start_soon(tracker.hold, name, nodes)
        await anyio.wait_all_tasks_blocked()
        assert tracker.holding == {"a": 1, "b": 2, "c": 1}
        assert pool.free == 0
        for event in tracker.release.values():
            event.set()
    assert pool.free == 4


async def test_a_request_waits_until_enough_nodes_are_free() -> None:
    pool = HostPool(range(4))
    tracker = Tracker(pool)
    async with anyio.create_task_group() as tg:
        tg.start_soon(tracker.hold, "a", 3)
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(tracker.hold, "big", 2)
        await anyio.wait_all_tasks_blocked()
        assert "big" not in tracker.holding
        tracker.release["a"].set()
        await anyio.wait_all_tasks_blocked()
        assert tracker.holding == {"big": 2}
        tracker.release["big"].set()


async def test_small_requests_backfill_around_a_waiting_large_one() -> None:
    pool = HostPool(range(4))
    tracker = Tracker(pool)
    async with anyio.create_task_group() as tg:
        tg.start_soon(tracker.hold, "a", 3)
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(tracker.hold, "large", 4)
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(tracker.hold, "small", 1)  # one node is idle: use it
        await anyio.wait_all_tasks_blocked()
        assert tracker.holding == {"a": 3, "small": 1}
        tracker.release["a"].set()
        tracker.release["small"].set()
        await anyio.wait_all_tasks_blocked()
        assert tracker.holding == {"large": 4}
        tracker.release["large"].set()
    assert tracker.admitted == ["a", "small", "large"]


async def test_cancelling_a_waiter_leaves_the_pool_consistent() -> None:
    pool = HostPool(range(2))
    tracker = Tracker(pool)
    waiting = anyio.CancelScope()

    async def waiter() -> None:
        with waiting:
            async with pool.hold(1):
                pytest.fail("admitted while every node was busy")

    async with anyio.create_task_group() as tg:
        tg.start_soon(tracker.hold, "a", 2)
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        waiting.cancel()
        await anyio.wait_all_tasks_blocked()
        tracker.release["a"].set()
    assert waiting.cancelled_caught
    assert pool.free == 2
    async with pool.hold(2):
        assert pool.free == 0


async def test_cancelling_an_admitted_evaluation_returns_its_nodes() -> None:
    pool = HostPool(range(2))
    running = anyio.Event()

    async def evaluation() -> None:
        async with pool.hold(2):
            running.set()
            await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        async with pool.hold(2):
            tg.start_soon(evaluation)
            await anyio.wait_all_tasks_blocked()
        await running.wait()
        assert pool.free == 0
        tg.cancel_scope.cancel()
    assert pool.free == 2


async def test_asking_for_more_than_the_pool_has_fails_at_once() -> None:
    pool = HostPool(range(2))
    with pytest.raises(PoolTooSmall) as caught:
        async with pool.hold(3):
            pass
    assert (caught.value.wanted, caught.value.in_service) == (3, 2)


async def test_hosts_are_handed_out_in_the_pools_order_and_come_back() -> None:
    pool = HostPool(["n1", "n2", "n3"])
    async with pool.hold(2) as first:
        assert first == ["n1", "n2"]
        async with pool.hold(1) as second:
            assert second == ["n3"]
    assert pool.free == 3


async def test_retiring_hosts_fails_the_waiters_it_starves() -> None:
    """A node dies while a 2-node evaluation waits: with 1 node left in service it
    can never run, so it fails instead of waiting forever."""
    pool = HostPool(["n1", "n2"])
    outcome: list[str] = []

    async def wants_two() -> None:
        try:
            async with pool.hold(2):
                outcome.append("ran")
        except PoolTooSmall:
            outcome.append("too small")

    async with anyio.create_task_group() as tg, pool.hold(1) as held:
        tg.start_soon(wants_two)
        await anyio.wait_all_tasks_blocked()
        pool.retire(["n2"])
        await anyio.wait_all_tasks_blocked()
        assert outcome == ["too small"]
        assert held == ["n1"]
    assert (pool.free, pool.in_service, pool.retired) == (1, 1, frozenset({"n2"}))


async def test_a_restored_host_is_not_handed_out_while_still_held() -> None:
    pool = HostPool(["n1", "n2"])
    async with pool.hold(2) as held:
        pool.retire(["n2"])
        pool.restore(["n2"])  # back in service, but its evaluation still runs
        assert pool.free == 0
    assert held == ["n1", "n2"]
    assert pool.free == 2
    async with pool.hold(2) as again:
        assert again == ["n1", "n2"]


@settings(max_examples=30, deadline=None)
@given(
    capacity=st.integers(1, 6),
    requests=st.lists(st.tuples(st.integers(1, 6), st.integers(0, 3)), min_size=1, max_size=12),
)
def test_the_pool_is_never_oversubscribed(capacity: int, requests: list[tuple[int, int]]) -> None:
    async def main() -> None:
        pool = HostPool(range(capacity))
        in_use = 0
        peak = 0

        async def job(nodes: int, hops: int) -> None:
            nonlocal in_use, peak
            async with pool.hold(nodes):
                in_use += nodes
                peak = max(peak, in_use)
                assert in_use <= capacity
                for _ in range(hops):
                    await anyio.lowlevel.checkpoint()
                in_use -= nodes

        async with anyio.create_task_group() as tg:
            for nodes, hops in requests:
                tg.start_soon(job, min(nodes, capacity), hops)
        assert pool.free == capacity
        assert peak >= max(min(n, capacity) for n, _ in requests)

    anyio.run(main)
