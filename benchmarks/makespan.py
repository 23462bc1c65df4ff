"""Makespan overhead: N evaluations of d seconds each on S slots against ``N * d / S``.

Issue #11: 2,000 evaluations of 0.25 s on 16 slots within 1 % of the ideal
31.25 s (quick: 160 evaluations, 2.5 s). Variants, interleaved:

- ``callable-asyncio`` / ``callable-trio``: an ``async def`` that sleeps ``d``
  (measures the scheduler, not process start);
- ``callable-asyncio-nofsync``: the same with ``fsync="never"`` (the others keep
  the default ``"batch"``: group-committed fsyncs on a thread);
- ``process-asyncio``: ``sleep 0.25`` through the local launcher with default
  settings (process start, trial directory and fsynced journal included);
- ``process-bare``: the same shell command started with ``anyio.run_process``
  under a 16-slot limiter and nothing else: what starting the processes costs
  this machine, the floor under ``process-asyncio``.

The makespan is the wall time of the whole ``await hyperdeme.optimize(...)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

import hyperdeme

from . import _harness as h

SPACE = hyperdeme.Params([["--x", (0.0, 1.0)]])
VARIANTS = (
    "callable-asyncio",
    "callable-trio",
    "callable-asyncio-nofsync",
    "process-asyncio",
    "process-bare",
)


def _command(duration: float) -> str:
    return f"sleep {duration}; echo FoM: 1 #"


async def _bare(evaluations: int, duration: float, slots: int, root: Path) -> float:
    limiter = anyio.CapacityLimiter(slots)

    async def one() -> None:
        async with limiter:
            await anyio.run_process(["/bin/sh", "-c", _command(duration)])

    with h.fresh_cwd(root):
        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(evaluations):
                tg.start_soon(one)
        return time.perf_counter() - start


async def _run(
    kind: str, evaluations: int, duration: float, slots: int, fsync: str, root: Path
) -> float:
    async def sleeper(params: dict[str, Any]) -> float:
        await anyio.sleep(duration)
        return float(params["--x"])

    if kind == "callable":
        evaluator = hyperdeme.Evaluator(
            sleeper,
            num_parallel_evals=slots,
            fsync=fsync,  # type: ignore[arg-type]  # "batch" (the default) or "never"
        )
    else:  # default settings: run/ in the working directory, journal fsynced in batches
        evaluator = hyperdeme.Evaluator(
            _command(duration), workload_manager="local", num_parallel_evals=slots
        )
    with h.fresh_cwd(root):
        start = time.perf_counter()
        result = await hyperdeme.optimize(
            hyperdeme.RandomOptimizer(evaluator, num_iters=evaluations, seed=1), SPACE
        )
        elapsed = time.perf_counter() - start
    if len(result.trials) != evaluations or result.n_failed:
        raise RuntimeError(f"expected {evaluations} successful trials: {result}")
    return elapsed


def _runner(variant: str, n: int, d: float, slots: int, root: Path) -> Callable[[], float]:
    kind, backend, *options = variant.split("-")
    fsync = "never" if "nofsync" in options else "batch"
    if backend == "bare":
        return lambda: anyio.run(_bare, n, d, slots, root)
    return lambda: anyio.run(_run, kind, n, d, slots, fsync, root, backend=backend)


def main(quick: bool, args: Any) -> list[h.Table]:
    evaluations, duration, slots = (160 if quick else 2000), 0.25, 16
    ideal = evaluations * duration / slots
    repeats = args.repeats or (2 if quick else 3)
    table = h.Table(
        f"makespan: {evaluations} x {duration} s on {slots} slots, ideal {ideal:.2f} s "
        f"(median of {repeats}, interleaved)",
        ["variant", "makespan s", "overhead %", "<= 1 %", "per evaluation ms"],
    )
    data: dict[str, Any] = {}
    with h.scratch_dir("hd-makespan-") as root:
        print(f"[makespan] ~{ideal * len(VARIANTS) * repeats:.0f} s ...", flush=True)
        values = h.interleave(
            {v: _runner(v, evaluations, duration, slots, root) for v in VARIANTS}, repeats
        )
    for variant in VARIANTS:
        makespan = h.median(values[variant])
        overhead = (makespan / ideal - 1) * 100
        data[variant] = {"seconds": values[variant], "median": makespan, "overhead_pct": overhead}
        table.add(
            variant,
            makespan,
            overhead,
            h.verdict(overhead, 1.0, higher_is_better=False),
            (makespan - ideal) * slots / evaluations * 1e3,
        )
    table.notes.append("per evaluation: (makespan - ideal) * slots / N, the cost a slot adds")
    return h.save_benchmark(
        "makespan",
        quick,
        [table],
        settings={
            "evaluations": evaluations,
            "duration": duration,
            "slots": slots,
            "repeats": repeats,
            "ideal": ideal,
        },
        results=data,
    )
