"""The run's own worker threads for plain functions (launchers/_function_threads.py)."""

from __future__ import annotations

import contextvars
import threading
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import pytest

import hyperdeme
from hyperdeme.launchers._function_threads import FunctionThreads

NAME = "hyperdeme function worker"
SPACE = hyperdeme.Params([["--x", (0.0, 1.0)]])
VARIABLE: contextvars.ContextVar[str] = contextvars.ContextVar("VARIABLE", default="unset")


def _workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == NAME}


async def _wait_gone(threads: set[threading.Thread]) -> None:
    """Waits (on events of the threads themselves, bounded) until ``threads`` ended."""
    for thread in threads:
        await anyio.to_thread.run_sync(thread.join, 10)
    assert not any(t.is_alive() for t in threads)


async def test_calls_reuse_one_long_lived_thread_per_slot() -> None:
    pool = FunctionThreads(size=2)
    before = _workers()
    seen = [await pool.run(threading.get_ident) for _ in range(5)]
    assert len(set(seen)) == 1
    assert seen[0] != threading.get_ident()
    started = _workers() - before
    assert len(started) == 1
    pool.close()
    assert not any(t.is_alive() for t in started)  # close() waits for the idle ones


async def test_no_more_calls_at_once_than_the_size() -> None:
    pool = FunctionThreads(size=2)
    release, two_in = threading.Event(), threading.Event()
    running: list[int] = []
    most = 0
    lock = threading.Lock()

    def blocked(i: int) -> int:
        nonlocal most
        with lock:
            running.append(i)
            most = max(most, len(running))
            if len(running) == 2:
                two_in.set()
        release.wait(10)
        with lock:
            running.remove(i)
        return i

    results: list[int] = []

    async def one(i: int) -> None:
        results.append(await pool.run(blocked, i))

    async with anyio.create_task_group() as tg:
        for i in range(4):
            tg.start_soon(one, i)
        await anyio.to_thread.run_sync(two_in.wait, 10)  # the first two are in their threads
        assert pool.limiter.borrowed_tokens == 2
        assert pool.limiter.statistics().tasks_waiting == 2
        release.set()
    assert sorted(results) == [0, 1, 2, 3]
    assert most == 2
    pool.close()


async def test_what_the_function_raises_is_raised_to_the_caller() -> None:
    pool = FunctionThreads(size=1)

    def fails(error: BaseException) -> None:
        raise error

    for error in (ValueError("bad"), KeyboardInterrupt(), SystemExit(3)):
        with pytest.raises(type(error)):
            await pool.run(fails, error)
    assert await pool.run(lambda: 7) == 7  # the thread survives them all
    pool.close()


async def test_the_function_sees_the_callers_context_and_reaches_the_loop() -> None:
    """Context variables are the caller's (structlog's bound trial id, ...), and
    ``anyio.from_thread.run_sync`` works from the function without a token."""
    pool = FunctionThreads(size=1)
    loop_thread = threading.get_ident()

    def inside() -> tuple[str, int]:
        return VARIABLE.get(), anyio.from_thread.run_sync(threading.get_ident)

    VARIABLE.set("the caller's")
    assert await pool.run(inside) == ("the caller's", loop_thread)
    pool.close()


async def test_a_cancelled_call_returns_at_once_and_its_thread_ends_after_it() -> None:
    pool = FunctionThreads(size=1)
    entered, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def slow() -> str:
        entered.set()
        release.wait(10)
        finished.append("done")
        return "late"

    before = _workers()
    with anyio.move_on_after(10) as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(pool.run, slow)
            await anyio.to_thread.run_sync(entered.wait, 10)
            tg.cancel_scope.cancel()
    assert not scope.cancelled_caught  # the cancel did not wait for the function
    abandoned = _workers() - before
    assert len(abandoned) == 1
    assert not finished
    assert pool.limiter.borrowed_tokens == 0  # its slot is free for the next call
    assert await pool.run(lambda: "next") == "next"  # on another thread
    release.set()
    await _wait_gone(abandoned)  # finished the function, then ended
    assert finished == ["done"]
    pool.close()
    assert _workers() == before


async def test_a_run_of_a_plain_function_leaves_no_worker_thread(tmp_path: Path) -> None:
    def evaluate(params: dict[str, Any]) -> float:
        return float(params["--x"])

    before = _workers()
    for k in range(2):  # a second run makes threads of its own
        evaluator = hyperdeme.Evaluator(
            evaluate, run_path=str(tmp_path / "run"), num_parallel_evals=3, fsync=False
        )
        opt = hyperdeme.RandomOptimizer(evaluator, num_iters=20, seed=k, name=f"e{k}")
        result = await hyperdeme.optimize(opt, SPACE)
        assert len(result.trials) == 20
        assert all(t.ok for t in result.trials)
        assert _workers() == before
