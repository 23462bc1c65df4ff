"""In-process cost per trial with an instant objective, 1,000 to 100,000 trials (issue #11).

Runners, one slot each, the same 6-parameter space (a log float, three
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


def main(quick: bool, args: Any) -> list[h.Table]:
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
