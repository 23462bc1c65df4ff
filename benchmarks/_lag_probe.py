"""One loop-lag measurement in a fresh interpreter (run by :mod:`benchmarks.loop_lag`).

``python _lag_probe.py SCENARIO SCRATCH SIZE``, with the hyperdeme to measure first on
``PYTHONPATH``; prints one JSON object: the 1 ms ticker's lags (seconds) while idle
and while the scenario ran, in the same event loop and the same process; and, less
at the mercy of the machine's load, while the scenario ran: the full collections of
the cyclic GC (each a pause of every thread: their count and milliseconds) and the
most CPU the loop's own thread spent within one tick (``loop_cpu_max``, seconds:
work done on the loop, as opposed to waiting for the GIL or a CPU).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from anyio import TASK_STATUS_IGNORED
from anyio.abc import TaskStatus

import hyperdeme

KERNEL = Path(__file__).parents[1] / "tests" / "kernels" / "fast.sh"
SPACE = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]])
IDLE_SECONDS = 1.0


_LOOP_CPU: list[float] = []  # the loop thread's CPU seconds in each tick


async def _ticker(
    lags: list[float], stop: anyio.Event, *, task_status: TaskStatus[None] = TASK_STATUS_IGNORED
) -> None:
    """Sleep 1 ms at a time; each lag is how much later than asked the loop woke it."""
    task_status.started()  # ticking before the work starts: a loop blocked at once counts
    while not stop.is_set():
        asked, cpu = time.perf_counter(), time.thread_time()
        await anyio.sleep(0.001)
        lags.append(time.perf_counter() - asked - 0.001)
        _LOOP_CPU.append(time.thread_time() - cpu)


async def _measured(work: Any) -> list[float]:
    lags: list[float] = []
    stop = anyio.Event()
    _LOOP_CPU.clear()
    async with anyio.create_task_group() as tg:
        await tg.start(_ticker, lags, stop)
        await anyio.sleep(0.01)
        await work()
        stop.set()
    return lags


_FULL_GCS: list[float] = []  # milliseconds of each full collection while measured
_gc_started = [0.0]


def _on_gc(phase: str, info: dict[str, int]) -> None:
    if info["generation"] != 2:
        return
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    else:
        _FULL_GCS.append((time.perf_counter() - _gc_started[0]) * 1e3)


def _evaluate(params: dict[str, Any]) -> float:
    return float(params["--x"])


async def _programs(scratch: Path, size: int, files: int) -> None:
    source = scratch / f"src{files}"
    source.mkdir()
    for number in range(files):
        (source / f"file{number:03d}.txt").write_text("x")
    evaluator = hyperdeme.Evaluator(
        f"sh {KERNEL}",
        src_path=str(source),
        run_path=str(scratch / "run"),
        num_parallel_evals=8,
        fsync=False,
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=size, seed=1, name=f"p{files}")
    await hyperdeme.optimize(opt, SPACE)


def _journal(scratch: Path, size: int) -> Path:
    made = os.environ.get("LAG_PROBE_JOURNAL")  # a run directory made once, copied
    if made:
        shutil.copytree(made, scratch / "run")
        return scratch / "run" / "big"
    evaluator = hyperdeme.Evaluator(_evaluate, run_path=str(scratch / "run"), fsync=False)
    hyperdeme.RandomOptimizer(evaluator, num_iters=size, seed=1, name="big").optimize(SPACE)
    return scratch / "run" / "big"


async def main(scenario: str, scratch: Path, size: int) -> dict[str, Any]:
    idle = await _measured(lambda: anyio.sleep(IDLE_SECONDS))
    if scenario == "programs":
        work: Any = lambda: _programs(scratch, size, 3)  # noqa: E731
    elif scenario == "src200":
        work = lambda: _programs(scratch, size, 200)  # noqa: E731
    elif scenario == "resume":
        path = await anyio.to_thread.run_sync(_journal, scratch, size)
        evaluator = hyperdeme.Evaluator(_evaluate, run_path=str(path.parent), fsync=False)
        opt = hyperdeme.RandomOptimizer(evaluator, num_iters=size + 1, seed=1, name="big")
        work = lambda: hyperdeme.optimize(opt, SPACE, resume=True)  # noqa: E731
    elif scenario in ("read", "aread"):
        path = await anyio.to_thread.run_sync(_journal, scratch, size)

        async def work() -> None:
            if scenario == "aread":
                await hyperdeme.aread_journal(path)  # type: ignore[attr-defined]
            else:
                hyperdeme.read_journal(path)

    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    started = time.perf_counter()
    gc.callbacks.append(_on_gc)
    busy = await _measured(work)
    gc.callbacks.remove(_on_gc)
    return {
        "idle": idle,
        "busy": busy,
        "seconds": time.perf_counter() - started,
        "full_gcs": len(_FULL_GCS),
        "full_gc_ms": _FULL_GCS,
        "loop_cpu_max": max(_LOOP_CPU, default=0.0),
        "load": os.getloadavg()[0],
    }


if __name__ == "__main__":
    if os.environ.get("LAG_PROBE_GC") == "off":  # how much of the lag is the cyclic GC's
        gc.disable()
    result = anyio.run(main, sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
    print(json.dumps(result))
