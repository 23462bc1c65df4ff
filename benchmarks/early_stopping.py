"""Early stopping (issue #13, part 2): the same random candidates with and without it.

Goal: on a program that trains 27 epochs, the same random candidates reach a
best FoM within 2 % of the full run with at most half the epochs. The program
is ``learning_curve.py`` (curves that cross: a larger learning rate falls
faster to a worse loss, so an early rung favours the wrong trials).

**Same candidates.** For each seed, ``N`` random candidates: a random
search's candidates do not depend on its results, so with and without early
stopping the very same points are evaluated, one at a time (deterministic).
Per rule: *gap* = best FoM with early stopping / best FoM of the full run - 1
(the best of the trials that ran to their end: a stopped trial's FoM is that
of a shorter training), *epochs* = epochs trained / ``27 N``; median and worst
over the seeds, and on how many seeds both halves of the goal hold. Optuna's
``RandomSampler`` (its candidates do not depend on results either) with its
``SuccessiveHalvingPruner`` and ``HyperbandPruner`` is measured the same way
against its own full run, in the same process. hyperdeme's trials go through
the engine with :mod:`._streaming`'s in-process launcher, which prints each
epoch's line as the program does.

**Real processes.** ``learning_curve.py --epoch-seconds S`` through the local
launcher on 2 slots, full run against ASHA: the same best FoM and epochs, and
the wall time (with 2 slots the order in which trials reach a rung, and so
the decisions, depend on timing).
"""

from __future__ import annotations

import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

import hyperdeme

from . import _harness as h
from ._problems import PROBLEMS
from ._streaming import CurveRun, run_curves, run_optuna_curves

PROBLEM = PROBLEMS["learning-curve"]
GAP, EPOCHS = 0.02, 0.5
#: name -> rule; the first is the issue's example
RULES = {
    "ASHA(27, 3, min_steps=1)": hyperdeme.ASHA(max_steps=27, reduction_factor=3, min_steps=1),
    "ASHA(27, 3, min_steps=3)": hyperdeme.ASHA(max_steps=27, reduction_factor=3, min_steps=3),
    "ASHA(27, 3, min_steps=5)": hyperdeme.ASHA(max_steps=27, reduction_factor=3, min_steps=5),
    "ASHA(27, 2, min_steps=5)": hyperdeme.ASHA(max_steps=27, reduction_factor=2, min_steps=5),
}
#: name -> (pruner, min_resource), reduction factor 3
PRUNERS = {
    "SuccessiveHalvingPruner(min_resource=1)": ("sha", 1),
    "SuccessiveHalvingPruner(min_resource=5)": ("sha", 5),
    "HyperbandPruner(min_resource=1)": ("hyperband", 1),
    "HyperbandPruner(min_resource=5)": ("hyperband", 5),
}
PROCESS_RULE = "ASHA(27, 3, min_steps=5)"


def _random(evaluator: hyperdeme.Evaluator, trials: int, seed: int) -> Any:
    return hyperdeme.RandomOptimizer(evaluator, num_iters=trials, seed=seed)


def _compare(full: CurveRun, stopped: CurveRun) -> dict[str, float]:
    gap = stopped.best / full.best - 1
    epochs = stopped.epochs / full.epochs
    return {
        "best_full": full.best,
        "best": stopped.best,
        "gap": gap,
        "epochs": epochs,
        "trials": stopped.trials,
        "stopped": stopped.stopped,
        "met": gap <= GAP and epochs <= EPOCHS,
    }


def same_candidates(n: int, seeds: range) -> dict[str, dict[str, Any]]:
    """library -> rule -> per-seed comparisons."""
    out: dict[str, dict[str, Any]] = {"hyperdeme": {}, "optuna": {}}
    for seed in seeds:
        full = run_curves(PROBLEM, _random, n, seed)
        for name, rule in RULES.items():
            stopped = run_curves(PROBLEM, _random, n, seed, early_stopping=rule)
            out["hyperdeme"].setdefault(name, []).append(_compare(full, stopped))
        full = run_optuna_curves(PROBLEM, "random", "none", n, seed)
        for name, (pruner, min_steps) in PRUNERS.items():
            stopped = run_optuna_curves(PROBLEM, "random", pruner, n, seed, min_steps=min_steps)
            out["optuna"].setdefault(name, []).append(_compare(full, stopped))
        print(f"[early-stopping] seed {seed} done", flush=True)
    return out


def _same_table(n: int, seeds: range, results: dict[str, dict[str, Any]]) -> h.Table:
    table = h.Table(
        f"early stopping, same random candidates: {n} per seed, 27 epochs each, seeds "
        f"{seeds.start}-{seeds.stop - 1}; goal: gap <= {GAP:.0%} and epochs <= {EPOCHS:.0%}",
        ["library", "rule", "gap median", "gap worst", "epochs median", "trials stopped",
         "goal met"],
    )  # fmt: skip
    for library, rules in results.items():
        for name, runs in rules.items():
            table.add(
                library,
                name,
                f"{statistics.median(r['gap'] for r in runs):+.1%}",
                f"{max(r['gap'] for r in runs):+.1%}",
                f"{statistics.median(r['epochs'] for r in runs):.1%}",
                f"{statistics.median(r['stopped'] / r['trials'] for r in runs):.0%}",
                f"{sum(r['met'] for r in runs)}/{len(runs)}",
            )
    table.notes += [
        "gap: best FoM of the trials that ran to their end / best FoM of the full run - 1",
        "epochs: epochs trained / epochs of the full run (27 per candidate)",
        "Optuna: RandomSampler(seed), each pruner against its own full run (NopPruner)",
    ]
    return table


# ----------------------------------------------------------------------------- processes
async def _processes(
    root: Path, n: int, seed: int, epoch_seconds: float, rule: hyperdeme.EarlyStopping | None
) -> dict[str, Any]:
    program = Path(__file__).with_name("learning_curve.py")
    command = shlex.join([sys.executable, str(program), f"--epoch-seconds={epoch_seconds}"])
    source = root / "src"
    source.mkdir(exist_ok=True)
    evaluator = hyperdeme.Evaluator(
        command,
        workload_manager="local",
        num_parallel_evals=2,
        run_path=str(root / "run"),
        src_path=str(source),
        early_stopping=rule,
    )
    optimizer = hyperdeme.RandomOptimizer(
        evaluator, num_iters=n, seed=seed, name=f"es-{time.monotonic_ns()}"
    )
    start = time.perf_counter()
    result = await hyperdeme.optimize(optimizer, PROBLEM.space.to_hyperdeme())
    seconds = time.perf_counter() - start
    if result.n_failed:
        raise RuntimeError(f"{result.n_failed} trials failed: {result}")
    return {
        "best": result.best_fom,
        "epochs": sum(t.steps for t in result.trials),
        "stopped": result.n_stopped,
        "seconds": seconds,
    }


def processes(n: int, seed: int, epoch_seconds: float) -> dict[str, dict[str, Any]]:
    runs: dict[str, Callable[[Path], dict[str, Any]]] = {
        "full": lambda root: anyio.run(_processes, root, n, seed, epoch_seconds, None),
        PROCESS_RULE: lambda root: anyio.run(
            _processes, root, n, seed, epoch_seconds, RULES[PROCESS_RULE]
        ),
    }
    out = {}
    with h.scratch_dir("hd-early-stopping-") as root:
        for name, run in runs.items():
            print(f"[early-stopping] processes: {name} ...", flush=True)
            out[name] = run(root)
    return out


def _process_table(n: int, seed: int, epoch_seconds: float, runs: dict[str, Any]) -> h.Table:
    full = runs["full"]
    table = h.Table(
        f"early stopping, real processes: learning_curve.py --epoch-seconds {epoch_seconds}, "
        f"{n} random candidates (seed {seed}), local launcher, 2 slots",
        ["run", "best FoM", "gap", "epochs", "epochs %", "stopped", "wall s", "wall %"],
    )
    for name, run in runs.items():
        table.add(
            name,
            run["best"],
            f"{run['best'] / full['best'] - 1:+.1%}",
            run["epochs"],
            f"{run['epochs'] / full['epochs']:.1%}",
            run["stopped"],
            run["seconds"],
            f"{run['seconds'] / full['seconds']:.0%}",
        )
    table.notes.append("stopped processes are killed (SIGTERM to the process group)")
    return table


def main(quick: bool, args: Any) -> list[h.Table]:
    n = 100
    seeds = range(1, (args.seeds or (3 if quick else 10)) + 1)
    process_n, epoch_seconds, process_seed = (20, 0.01, 1) if quick else (60, 0.02, 1)
    results = same_candidates(n, seeds)
    runs = processes(process_n, process_seed, epoch_seconds)
    tables = [
        _same_table(n, seeds, results),
        _process_table(process_n, process_seed, epoch_seconds, runs),
    ]
    return h.save_benchmark(
        "early-stopping",
        quick,
        tables,
        settings={
            "candidates": n,
            "seeds": list(seeds),
            "goal": {"gap": GAP, "epochs": EPOCHS},
            "processes": {"candidates": process_n, "epoch_seconds": epoch_seconds},
        },
        same_candidates=results,
        processes=runs,
    )
