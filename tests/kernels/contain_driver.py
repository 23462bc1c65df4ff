"""A driver process for the containment fault tests: runs of trials that leave daemons.

Usage: contain_driver.py RUN_ROOT --marker=M --backend=asyncio|trio [options]

Runs experiments ``run-<i>`` for i in ``--first`` .. ``--first + --count - 1``, one
after the other, in this process (``hyperdeme.stream`` in ``anyio.run``); each is a
random search of ``daemons.sh`` (every trial leaves three daemons) with ``--iters``
trials (or, without it, 1-3 drawn from ``--seed`` and i) on ``--slots`` slots.
Appends ``started i`` and ``done i`` to ``RUN_ROOT/progress`` (flushed at once), so
a test that kills this process knows where the next driver goes on. ``--hang=S``
makes every trial sleep S seconds once its daemons run.
"""

from __future__ import annotations

import argparse
import os
import random
from pathlib import Path

import anyio

import hyperdeme

KERNEL = Path(__file__).with_name("daemons.sh")
SPACE = hyperdeme.Params([["--x", 0.1, (0.0, 1.0)]])


def optimizer(
    run_root: Path, *, marker: str, name: str, iters: int, slots: int, hang: float = 0.0,
    command: str = "",
) -> hyperdeme.RandomOptimizer:  # fmt: skip
    """The experiment (``command`` instead of daemons.sh if given)."""
    src = run_root / "src"
    src.mkdir(parents=True, exist_ok=True)  # empty: each trial runs in a directory of its own
    evaluator = hyperdeme.Evaluator(
        command or f"bash {KERNEL} {marker}",
        workload_manager="local",
        run_path=str(run_root),
        src_path=str(src),
        num_parallel_evals=slots,
        env={"DAEMONS_HANG": str(hang)} if hang else {},
    )
    return hyperdeme.RandomOptimizer(evaluator, num_iters=iters, seed=1, name=name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_root", type=Path)
    parser.add_argument("--marker", required=True)
    parser.add_argument("--backend", default="asyncio")
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--iters", type=int, default=0)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--seed", default="1")
    parser.add_argument("--hang", type=float, default=0.0)
    args = parser.parse_args()
    progress = os.open(args.run_root / "progress", os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    async def runs() -> None:
        for i in range(args.first, args.first + args.count):
            iters = args.iters or random.Random(f"{args.seed}/{i}").randint(1, 3)
            opt = optimizer(
                args.run_root, marker=args.marker, name=f"run-{i}", iters=iters,
                slots=args.slots, hang=args.hang,
            )  # fmt: skip
            os.write(progress, f"started {i}\n".encode())
            async with hyperdeme.stream(opt, SPACE) as trials:
                async for _ in trials:
                    pass
            os.write(progress, f"done {i}\n".encode())

    anyio.run(runs, backend=args.backend)


if __name__ == "__main__":
    main()
