"""Bounded by the work: ``num_parallel_evals=10**5`` for 3 trials costs 3 workers.

Injected: an absurd slot count. Measured while all 3 evaluations are in flight (they
wait for each other), not by time: the tasks the run holds equal those of the same
run with 3 slots, and a plain function's run uses 3 worker threads and no others
beyond the couple any run has.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

import hyperdeme
from kernels.fault_driver import SPACE

HUGE = 10**5


async def tasks_while_three_run(tmp_path: Path, slots: int) -> int:
    """How many tasks the event loop runs while the run's 3 evaluations are in flight."""
    arrived = 0
    all_in = anyio.Event()
    counted: list[int] = []

    async def evaluate(params: dict[str, Any]) -> float:
        nonlocal arrived
        arrived += 1
        if arrived == 3:
            counted.append(len(anyio.get_running_tasks()))
            all_in.set()
        await all_in.wait()
        return float(params["--x"])

    evaluator = hyperdeme.Evaluator(
        evaluate, run_path=str(tmp_path / "run"), num_parallel_evals=slots
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=3, name=f"slots{slots}")
    with anyio.fail_after(30):
        result = await hyperdeme.optimize(opt, SPACE)
    assert len(result.trials) == 3
    assert all(t.ok for t in result.trials)
    [count] = counted
    return count


async def test_a_huge_slot_count_starts_no_more_tasks_than_trials(tmp_path: Path) -> None:
    assert await tasks_while_three_run(tmp_path, HUGE) == await tasks_while_three_run(tmp_path, 3)


async def threads_while_three_run(tmp_path: Path, slots: int) -> tuple[int, int]:
    """A plain function's run, while its 3 evaluations are in flight: (the threads they
    run on, the other threads started since the run began)."""
    barrier = threading.Barrier(3, timeout=20)  # all 3 in flight at once, or it breaks
    workers: set[int] = set()
    before = {thread.ident for thread in threading.enumerate()}
    during: list[set[int | None]] = []

    def evaluate(params: dict[str, Any]) -> float:
        workers.add(threading.get_ident())
        if barrier.wait() == 0:
            during.append({thread.ident for thread in threading.enumerate()})
        return float(params["--x"])

    evaluator = hyperdeme.Evaluator(
        evaluate, run_path=str(tmp_path / "run"), num_parallel_evals=slots
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=3, name=f"slots{slots}")
    result = await hyperdeme.optimize(opt, SPACE)
    assert all(t.ok for t in result.trials)
    assert threading.get_ident() not in workers
    return len(workers), len(during[0] - before - workers)


@pytest.mark.parametrize("slots", [3, HUGE])
async def test_a_huge_slot_count_uses_no_more_threads_than_trials(
    tmp_path: Path, slots: int
) -> None:
    """3 evaluations on 3 threads, and besides them at most the couple of threads any
    run starts (the journal's fsync thread, a backend's helper), never one per slot."""
    workers, others = await threads_while_three_run(tmp_path, slots)
    assert workers == 3
    assert others <= 2
