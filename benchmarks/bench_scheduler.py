"""What hyperdeme adds on top of the evaluations themselves.

1. Per-trial overhead with an in-process no-op evaluation (the whole engine:
   strategy, scheduler, retries machinery, journal, logging).
2. Wall time of N short real processes (``/bin/true``) through hyperdeme's
   local launcher with S slots, against a bare anyio loop that starts the same
   processes with the same concurrency (the floor).

Run: ``.venv/bin/python benchmarks/bench_scheduler.py [--trials N] [--slots S]
[--run-path DIR]``. Each trial creates a directory and three files under the
run path: on a busy or parallel file system that metadata costs milliseconds,
so ``--run-path`` chooses where (default: a tmpfs, to measure hyperdeme itself).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from typing import Any

import anyio

import hyperdeme


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--run-path", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    return parser.parse_args()


SPACE = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]])


async def noop(params: dict[str, Any]) -> float:
    return float(params["--x"])


async def engine_callable(trials: int, slots: int, fsync: bool, where: str | None) -> float:
    with tempfile.TemporaryDirectory(dir=where) as run_path:
        evaluator = hyperdeme.Evaluator(
            noop, run_path=run_path, num_parallel_evals=slots, fsync=fsync
        )
        opt = hyperdeme.RandomOptimizer(evaluator, num_iters=trials, seed=1)
        start = time.perf_counter()
        await hyperdeme.optimize(opt, SPACE)
        return time.perf_counter() - start


async def engine_processes(trials: int, slots: int, where: str | None) -> float:
    with tempfile.TemporaryDirectory(dir=where) as run_path:
        evaluator = hyperdeme.Evaluator(
            "printf 'FoM: 1\\n' #",
            run_path=run_path,
            num_parallel_evals=slots,
            workload_manager="local",
            src_path=run_path,
        )
        opt = hyperdeme.RandomOptimizer(evaluator, num_iters=trials, seed=1)
        start = time.perf_counter()
        result = await hyperdeme.optimize(opt, SPACE)
        assert result.n_failed == 0
        return time.perf_counter() - start


async def bare_processes(trials: int, slots: int) -> float:
    limiter = anyio.CapacityLimiter(slots)

    async def one() -> None:
        async with limiter:
            await anyio.run_process(
                ["/bin/sh", "-c", "printf 'FoM: 1\\n' # --x=0.5"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(trials):
            tg.start_soon(one)
    return time.perf_counter() - start


def best(values: list[float]) -> float:
    return min(values)


async def main(args: argparse.Namespace) -> None:
    n, s = args.trials, args.slots
    rows = []
    for fsync in (False, True):
        times = [await engine_callable(n * 10, s, fsync, args.run_path) for _ in range(args.repeat)]
        rows.append((f"in-process no-op, fsync={fsync}", n * 10, best(times) / (n * 10) * 1e6))
    bare = [await bare_processes(n, s) for _ in range(args.repeat)]
    engine = [await engine_processes(n, s, args.run_path) for _ in range(args.repeat)]
    print(f"backend={args.backend} slots={s} run_path={args.run_path or tempfile.gettempdir()}")
    for name, count, per_trial_us in rows:
        print(f"{name:<32} {count:>6} trials  {per_trial_us:8.1f} us/trial")
    b, e = best(bare), best(engine)
    print(f"{'bare anyio processes':<32} {n:>6} trials  {b:8.3f} s  ({b / n * 1e3:.2f} ms/trial)")
    print(
        f"{'hyperdeme local launcher':<32} {n:>6} trials  {e:8.3f} s  ({e / n * 1e3:.2f} ms/trial)"
    )
    print(
        f"overhead: {(e - b) / n * 1e3:+.2f} ms/trial ({(e / b - 1) * 100:+.1f} %), "
        f"medians bare {statistics.median(bare):.3f} s, hyperdeme {statistics.median(engine):.3f} s"
    )


if __name__ == "__main__":
    arguments = parse()
    anyio.run(main, arguments, backend=arguments.backend)
