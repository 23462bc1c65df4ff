"""Driver memory, file descriptors and threads over 100,000 in-process trials (issue #11).

Each variant runs in a fresh child process (``python -m benchmarks.memory
--child VARIANT N``) that streams its trials with ``hyperdeme.stream`` and,
every N/50 trials, samples its RSS, open file descriptors and threads (psutil).
Growth per trial is the least-squares slope of RSS against the trial count
after a warm-up (the first 20 %); fds and threads must not grow after it.
Variants: random with an ``async def`` objective, genetic (4 demes x 25) with a
plain function (worker threads). The result keeps every trial (``Result.trials``
holds them all), which is part of what is measured. Target: < 2 KB per trial.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from typing import Any

from . import _harness as h

VARIANTS = ("random-async", "genetic-sync")
WARMUP = 0.2


def child(variant: str, trials: int) -> None:
    import anyio
    import psutil

    import hyperdeme

    from .throughput_inprocess import SPACE, instant

    process = psutil.Process()
    every = max(1, trials // 50)

    def sample(count: int) -> None:
        info = {
            "trials": count,
            "rss": process.memory_info().rss,
            "fds": process.num_fds(),
            "threads": process.num_threads(),
        }
        print(json.dumps(info), flush=True)

    async def objective(params: dict[str, Any]) -> float:
        return instant(params)

    async def run() -> None:
        with tempfile.TemporaryDirectory(prefix="hd-memory-") as run_path:
            function = instant if variant.endswith("-sync") else objective
            evaluator = hyperdeme.Evaluator(function, run_path=run_path, fsync=False)
            if variant.startswith("random"):
                opt: hyperdeme.Optimizer = hyperdeme.RandomOptimizer(
                    evaluator, num_iters=trials, seed=1
                )
            else:
                opt = hyperdeme.GeneticOptimizer(
                    evaluator,
                    generations=max(1, trials // 100),
                    num_demes=4,
                    pop_size=25,
                    seed=1,
                )
            sample(0)
            count = 0
            async with hyperdeme.stream(opt, SPACE.to_hyperdeme()) as stream:
                async for _trial in stream:
                    count += 1
                    if count % every == 0:
                        sample(count)

    anyio.run(run)


def measure(variant: str, trials: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--child", variant, str(trials)],
        cwd=h.ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    samples = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    after = [s for s in samples if s["trials"] >= WARMUP * trials]
    xs = [s["trials"] for s in after]
    return {
        "samples": samples,
        "bytes_per_trial": h.slope(xs, [s["rss"] for s in after]),
        "rss_start_mb": samples[0]["rss"] / 2**20,
        "rss_end_mb": samples[-1]["rss"] / 2**20,
        "fd_growth": max(s["fds"] for s in after) - after[0]["fds"],
        "thread_growth": max(s["threads"] for s in after) - after[0]["threads"],
        "threads_max": max(s["threads"] for s in samples),
    }


def main(quick: bool, args: Any) -> list[h.Table]:
    trials = int(args.sizes.split(",")[-1]) if args.sizes else (10_000 if quick else 100_000)
    table = h.Table(
        f"driver growth over {trials} in-process trials (after {WARMUP:.0%} warm-up)",
        [
            "variant",
            "KB per trial",
            "< 2 KB",
            "RSS start MB",
            "RSS end MB",
            "fd growth",
            "thread growth",
            "threads max",
        ],
    )
    results = {}
    for variant in VARIANTS:
        print(f"[memory] {variant}, {trials} trials ...", flush=True)
        r = results[variant] = measure(variant, trials)
        kb = r["bytes_per_trial"] / 1024
        table.add(
            variant,
            kb,
            h.verdict(kb, 2.0, higher_is_better=False),
            r["rss_start_mb"],
            r["rss_end_mb"],
            r["fd_growth"],
            r["thread_growth"],
            r["threads_max"],
        )
    return h.save_benchmark(
        "memory",
        quick,
        [table],
        settings={"trials": trials, "warmup": WARMUP},
        results=results,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "TRIALS"), required=True)
    options = parser.parse_args()
    child(options.child[0], int(options.child[1]))
