"""Search quality and the worth of steady-state evolution, measured.

1. Quality: best FoM on a shifted 10-D Rastrigin (optimum at 2.3 in every
   coordinate, no defaults) at equal budget, median over seeds: random search,
   genetic steady-state, genetic generational (crayai's mode).
2. Wall clock: evaluations of uneven length (20 to 320 ms) on 8 slots; the
   generational mode waits for each generation's slowest evaluation, the
   steady-state mode never does.

Run: ``.venv/bin/python benchmarks/bench_search.py [--budget N] [--seeds S]``.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import tempfile
import time
from typing import Any

import anyio

import hyperdeme

DIM = 10
OPTIMUM = 2.3


def rastrigin(params: dict[str, Any]) -> float:
    xs = [params[f"--x{i}"] - OPTIMUM for i in range(DIM)]
    return 10 * DIM + sum(x * x - 10 * math.cos(2 * math.pi * x) for x in xs)


SPACE = hyperdeme.Params([[f"--x{i}", (-5.12, 5.12)] for i in range(DIM)])


def optimizers(
    kind: str, evaluator: hyperdeme.Evaluator, budget: int, seed: int
) -> hyperdeme.Optimizer:
    if kind == "random":
        return hyperdeme.RandomOptimizer(evaluator, num_iters=budget, seed=seed)
    demes, pop = 2, 20
    if kind == "genetic-steady":
        generations = budget // (demes * pop)
    else:  # generational keeps each deme's elite: pop - 1 new evaluations per generation
        generations = 1 + (budget // demes - pop) // (pop - 1)
    return hyperdeme.GeneticOptimizer(
        evaluator, generations=generations, num_demes=demes, pop_size=pop, mutation_rate=0.2,
        migration_interval=3, seed=seed,
        mode="steady" if kind == "genetic-steady" else "generational",
    )  # fmt: skip


async def quality(budget: int, seeds: int) -> None:
    print(f"shifted 10-D Rastrigin, budget {budget}, median best FoM over {seeds} seeds")
    with tempfile.TemporaryDirectory() as run_path:
        evaluator = hyperdeme.Evaluator(rastrigin, run_path=run_path, fsync=False)
        for kind in ("random", "genetic-steady", "genetic-generational"):
            best = []
            for seed in range(1, seeds + 1):
                result = await hyperdeme.optimize(optimizers(kind, evaluator, budget, seed), SPACE)
                best.append(result.best_fom)
            print(f"  {kind:<22} median {statistics.median(best):8.2f}   "
                  f"best {min(best):8.2f}   worst {max(best):8.2f}")  # fmt: skip


async def wall_clock(slots: int) -> None:
    rng = random.Random(1)
    busy = 0.0

    async def uneven(params: dict[str, Any]) -> float:
        nonlocal busy
        duration = rng.choice([0.02, 0.04, 0.08, 0.32])
        await anyio.sleep(duration)
        busy += duration
        return rastrigin(params)

    print(f"uneven evaluations (20-320 ms) on {slots} slots, genetic 2 demes x 16, 6 generations")
    with tempfile.TemporaryDirectory() as run_path:
        evaluator = hyperdeme.Evaluator(
            uneven, run_path=run_path, num_parallel_evals=slots, fsync=False
        )
        for mode in ("steady", "generational"):
            busy = 0.0
            opt = hyperdeme.GeneticOptimizer(
                evaluator, generations=6, num_demes=2, pop_size=16, seed=1, mode=mode
            )
            start = time.perf_counter()
            result = await hyperdeme.optimize(opt, SPACE)
            elapsed = time.perf_counter() - start
            rate = len(result.trials) / elapsed
            print(f"  {mode:<13} {len(result.trials):4d} evaluations  {elapsed:6.2f} s  "
                  f"{rate:5.1f} evaluations/s  "
                  f"slots busy {busy / (slots * elapsed) * 100:5.1f} %  "
                  f"best {result.best_fom:7.2f}")  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    await quality(args.budget, args.seeds)
    await wall_clock(args.slots)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--slots", type=int, default=8)
    anyio.run(main, parser.parse_args())
