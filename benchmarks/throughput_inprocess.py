"""In-process cost per trial with an instant objective, 1,000 to 100,000 trials (issues 11, 23).

Two benchmarks: ``inprocess`` (below) and ``inprocess-1p`` (issue 23 item 2, see
:func:`one_parameter`: one float parameter, default settings, each run in a child
process, with ``--baseline REV`` before/after).

Runners of ``inprocess``, one slot each, the same 6-parameter space (a log float, three
floats, an int, a value list):

- ``optuna-random``: ``RandomSampler``, in-memory storage, ``n_jobs=1``.
- ``hd-random-async`` / ``hd-genetic-async``: ``async def`` objective (awaited
  on the loop; every call checks it runs on the loop's thread: "thread hops").
- ``hd-random-sync`` / ``hd-genetic-sync``: plain function (a worker thread).
- ``hd-random-async-trio``: as ``hd-random-async`` on trio.
- ``hd-random-async-batch``: as ``hd-random-async`` with the default journal
  durability, ``fsync="batch"`` (group commit on a thread), on the real disk;
- ``hd-random-async-always``: ``fsync="always"``, one fsync per trial before it
  is reported (only up to 10,000 trials).

The other hyperdeme runners use ``fsync="never"`` (Optuna's in-memory study
does no I/O at all). Genetic: 4 demes x 25, steady, generations = trials / 100.
Targets: hyperdeme at or below Optuna's cost per trial, flat with the count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

import hyperdeme

from . import _harness as h
from ._spaces import Dim, Space

SPACE = Space(
    (
        Dim("--lr", "float", 1e-5, 1.0, log=True),
        Dim("--x1", "float", -1.0, 1.0),
        Dim("--x2", "float", -1.0, 1.0),
        Dim("--x3", "float", -1.0, 1.0),
        Dim("--layers", "int", 1, 8),
        Dim("--activation", "choice", values=("relu", "tanh", "gelu")),
    )
)
RUNNERS = (
    "optuna-random",
    "hd-random-async",
    "hd-random-sync",
    "hd-genetic-async",
    "hd-genetic-sync",
    "hd-random-async-trio",
    "hd-random-async-batch",
    "hd-random-async-always",
)
FSYNC_LIMIT = 10_000


def instant(params: dict[str, Any]) -> float:
    return params["--x1"] + params["--x2"] + params["--x3"]


def _optuna(trials: int) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    study.optimize(lambda trial: instant(SPACE.suggest(trial)), n_trials=trials)


class Hops:
    """Counts calls of the async objective that ran off the event loop's thread."""

    def __init__(self) -> None:
        self.calls = self.hops = 0
        self.loop_thread = 0


async def _hyperdeme(
    trials: int, kind: str, sync: bool, fsync: str, root: Path, hops: Hops
) -> None:
    hops.loop_thread = threading.get_ident()

    async def objective(params: dict[str, Any]) -> float:
        hops.calls += 1
        hops.hops += threading.get_ident() != hops.loop_thread
        return instant(params)

    run_path = root / f"r{time.monotonic_ns()}"
    evaluator = hyperdeme.Evaluator(
        instant if sync else objective,
        run_path=str(run_path),
        fsync=fsync,  # type: ignore[arg-type]  # one of the three names
    )
    if kind == "random":
        opt: hyperdeme.Optimizer = hyperdeme.RandomOptimizer(evaluator, num_iters=trials, seed=1)
    else:
        opt = hyperdeme.GeneticOptimizer(
            evaluator, generations=max(1, trials // 100), num_demes=4, pop_size=25, seed=1
        )
    result = await hyperdeme.optimize(opt, SPACE.to_hyperdeme())
    if len(result.trials) != trials or result.n_failed:
        raise RuntimeError(f"expected {trials} successful trials: {result}")


def _runner(name: str, trials: int, root: Path, hops: Hops) -> Callable[[], float]:
    def measure() -> float:
        start = time.perf_counter()
        if name == "optuna-random":
            _optuna(trials)
        else:
            parts = name.split("-")
            backend = "trio" if "trio" in parts else "asyncio"
            anyio.run(
                _hyperdeme,
                trials,
                parts[1],
                "sync" in parts,
                parts[-1] if parts[-1] in ("batch", "always") else "never",
                root,
                hops,
                backend=backend,
            )
        return time.perf_counter() - start

    return measure


def main(name: str, quick: bool, args: Any) -> list[h.Table]:
    if name == "inprocess-1p":
        return one_parameter(quick, args)
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else ([1000, 5000] if quick else [1000, 10_000, 100_000])
    )
    repeats = args.repeats or 3
    table = h.Table(
        f"in-process instant objective: us per trial (median of {repeats}, interleaved)",
        ["trials", *RUNNERS],
    )
    ratio = h.Table(
        "cost per trial relative to optuna-random (target <= 1), and growth with the count",
        ["trials", "runner", "x optuna", "<= 1", f"x own cost at {sizes[0]}"],
    )
    data: dict[str, Any] = {}
    hops = Hops()
    first: dict[str, float] = {}
    with h.scratch_dir("hd-inprocess-") as root:
        for trials in sizes:
            print(f"[inprocess] {trials} trials ...", flush=True)
            names = [n for n in RUNNERS if "always" not in n or trials <= FSYNC_LIMIT]
            values = h.interleave({n: _runner(n, trials, root, hops) for n in names}, repeats)
            per_trial = {n: h.median(values[n]) / trials * 1e6 for n in names}
            data[str(trials)] = {"seconds": values, "us_per_trial": per_trial}
            table.add(trials, *[per_trial.get(n, float("nan")) for n in RUNNERS])
            for name in names[1:]:
                first.setdefault(name, per_trial[name])
                x = per_trial[name] / per_trial["optuna-random"]
                ratio.add(
                    trials,
                    name,
                    x,
                    h.verdict(x, 1.0, higher_is_better=False),
                    per_trial[name] / first[name],
                )
    table.notes.append(
        f"async objective: {hops.hops} of {hops.calls} calls ran off the loop's thread"
    )
    return h.save_benchmark(
        "inprocess",
        quick,
        [table, ratio],
        settings={"sizes": sizes, "repeats": repeats},
        results=data,
        thread_hops={"calls": hops.calls, "hops": hops.hops},
    )


# ----------------------------------------------------------------- one parameter (issue 23)
#: runner -> (what runs, backend); each run is a child process (``--child RUNNER TRIALS``)
ONE_PARAMETER = {
    "optuna": ("optuna", ""),
    "hd-plain": ("plain", "asyncio"),
    "hd-async": ("async", "asyncio"),
    "hd-plain-trio": ("plain", "trio"),
}
#: the runners also measured at ``--baseline REV``
BASELINED = ("hd-plain", "hd-async")


def one_parameter(quick: bool, args: Any) -> list[h.Table]:
    """Issue 23 item 2: one float parameter, an instant objective on one slot, default
    settings (the journal on the real disk, ``fsync="batch"``): Optuna's ``RandomSampler``
    (in memory, ``study.optimize(f, n_trials)``) against a plain function and an
    ``async def`` one, at 1,000, 3,000 and 10,000 trials. Each run is a fresh child
    process with ``PYTHONPATH`` set to the hyperdeme it measures; it reports the wall
    time of the optimization call and the process's CPU time over it (every thread:
    the worker thread's too). Interleaved; targets: plain <= 1.5x Optuna, async <= 1x,
    flat with the count (Optuna's cost grows)."""
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else ([1000, 3000] if quick else [1000, 3000, 10_000])
    )
    repeats = args.repeats or (3 if quick else 5)
    sources = {"": h.ROOT / "src"}
    if args.baseline:
        sources[args.baseline] = h.baseline_source(args.baseline)
    columns = [*ONE_PARAMETER, *(f"{r}@{args.baseline}" for r in BASELINED if args.baseline)]
    table = h.Table(
        f"in-process, 1 float parameter, defaults: us per trial, wall (median [min, max] of "
        f"{repeats}, interleaved, child processes)",
        ["trials", *columns],
    )
    cpu_table = h.Table(
        "the same runs: CPU us per trial (the child's process time, every thread)",
        ["trials", *columns],
    )
    ratio = h.Table(
        "wall cost per trial relative to Optuna at the same count (targets: plain <= 1.5, "
        "async <= 1), and each runner's growth over its cost at the first count",
        ["trials", "runner", "x optuna", "target met", f"x own cost at {sizes[0]}"],
    )
    data: dict[str, Any] = {}
    first: dict[str, float] = {}
    with h.scratch_dir("hd-inprocess-1p-") as root:
        for trials in sizes:
            print(f"[inprocess-1p] {trials} trials ...", flush=True)
            runs: dict[str, list[dict[str, float]]] = {c: [] for c in columns}
            runners = {
                column: _child_runner(column, sources, trials, root, runs[column])
                for column in columns
            }
            walls = h.interleave(runners, repeats)
            cpus = {c: [r["cpu"] / trials * 1e6 for r in runs[c]] for c in columns}
            per_trial = {c: [w / trials * 1e6 for w in walls[c]] for c in columns}
            data[str(trials)] = {"us_per_trial": per_trial, "cpu_us_per_trial": cpus}
            table.add(trials, *[_spread(per_trial[c]) for c in columns])
            cpu_table.add(trials, *[_spread(cpus[c]) for c in columns])
            optuna = h.median(per_trial["optuna"])
            for column in columns[1:]:
                cost = h.median(per_trial[column])
                first.setdefault(column, cost)
                target = 1.0 if "async" in column else 1.5
                x = cost / optuna
                ratio.add(
                    trials,
                    column,
                    x,
                    h.verdict(x, target, higher_is_better=False),
                    cost / first[column],
                )
    table.notes.append(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return h.save_benchmark(
        "inprocess_1p",
        quick,
        [table, cpu_table, ratio],
        settings={"sizes": sizes, "repeats": repeats, "baseline": args.baseline or None},
        results=data,
    )


def _child_runner(
    column: str, sources: dict[str, Path], trials: int, root: Path, out: list[dict[str, float]]
) -> Callable[[], float]:
    runner, _, revision = column.partition("@")
    source = sources[revision]

    def run() -> float:
        command = [sys.executable, "-m", "benchmarks.throughput_inprocess", "--child"]
        done = subprocess.run(
            [*command, runner, str(trials), str(root)],
            cwd=h.ROOT,
            env={**os.environ, "PYTHONPATH": str(source)},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{column} at {source} failed: {done.stderr[-2000:]}")
        result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
        out.append(result)
        return result["wall"]

    return run


def child(runner: str, trials: int, root: Path) -> None:
    """One run of ``runner`` here; prints ``{"wall": s, "cpu": s}`` as one JSON line."""
    what, backend = ONE_PARAMETER[runner]
    if what == "optuna":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
        wall, cpu = time.perf_counter(), time.process_time()
        study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0) ** 2, n_trials=trials)
    else:

        def plain(params: dict[str, Any]) -> float:
            return float(params["--x"]) ** 2

        async def coroutine(params: dict[str, Any]) -> float:
            return float(params["--x"]) ** 2

        evaluator = hyperdeme.Evaluator(
            plain if what == "plain" else coroutine,
            run_path=str(root / f"r{time.monotonic_ns()}"),
        )
        opt = hyperdeme.RandomOptimizer(evaluator, num_iters=trials, seed=1)
        space = hyperdeme.Params([["--x", (0.0, 1.0)]])
        wall, cpu = time.perf_counter(), time.process_time()
        result = anyio.run(hyperdeme.optimize, opt, space, backend=backend)
        if len(result.trials) != trials or result.n_failed:
            raise RuntimeError(f"expected {trials} successful trials: {result}")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)


def _spread(values: list[float]) -> str:
    return f"{h.median(values):.3g} [{min(values):.3g}, {max(values):.3g}]"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=3, metavar=("RUNNER", "TRIALS", "ROOT"), required=True)
    options = parser.parse_args()
    child(options.child[0], int(options.child[1]), Path(options.child[2]))
