"""What a step report costs a Python objective: ``trial.report`` per call (issue 22.2).

One process. For each place a function runs (a coroutine on the loop, a worker
thread, a worker process), interleaved repeats run the same loop of ``N`` cheap
iterations twice: without reports (``f(params)``: the baseline) and reporting each
iteration (``f(params, trial)``, no early-stopping rule, so every report travels
to the engine and back and nothing else changes). A repeat is one run of
``TRIALS`` trials on one slot; the cost of a report is the difference of the
medians divided by the reports made, and the ratio is the whole run's. Each
report waits for the engine's answer (so a trial stops exactly at the step the
rule decides): from a thread it is a round trip to the event loop, from a worker
process one over a Unix socket.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

import hyperdeme

from . import _harness as h

N = 2000
TRIALS = 3


def silent(params: dict[str, Any]) -> float:
    total = 0.0
    for i in range(1, N + 1):
        total += 1.0 / i
    return total


def reporting(params: dict[str, Any], trial: hyperdeme.TrialContext) -> float:
    total = 0.0
    for i in range(1, N + 1):
        total += 1.0 / i
        trial.report(total, step=i)
    return total


async def silent_async(params: dict[str, Any]) -> float:
    return silent(params)


async def reporting_async(params: dict[str, Any], trial: hyperdeme.TrialContext) -> float:
    return reporting(params, trial)


PLACES = {
    "coroutine": (silent_async, reporting_async, "thread"),
    "thread": (silent, reporting, "thread"),
    "process": (silent, reporting, "process"),
}


async def _run(function: Any, runs_in: str, root: Path, name: str) -> float:
    """Seconds one run of TRIALS trials takes (in the caller's event loop, whose worker
    processes stay up between runs)."""
    evaluator = hyperdeme.Evaluator(
        function, run_path=str(root), fsync=False, function_runs_in=runs_in
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=TRIALS, seed=1, name=name)
    started = time.perf_counter()
    result = await hyperdeme.optimize(opt, hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]))
    took = time.perf_counter() - started
    assert all(t.ok for t in result.trials), [t.error for t in result.trials]
    return took


async def _measure(repeats: int, root: Path) -> dict[str, dict[str, list[float]]]:
    """Per place: the baseline's and the reporting runs' seconds, interleaved AB BA ..."""
    raw: dict[str, dict[str, list[float]]] = {}
    runs = iter(range(1_000_000))
    for place, (base, with_reports, runs_in) in PLACES.items():
        functions = {"baseline": base, "reports": with_reports}
        await _run(base, runs_in, root, f"warm{next(runs)}")  # a worker process started
        values: dict[str, list[float]] = {"baseline": [], "reports": []}
        for r in range(repeats):
            for kind in ("baseline", "reports")[:: 1 if r % 2 == 0 else -1]:
                seconds = await _run(functions[kind], runs_in, root, f"e{next(runs)}")
                values[kind].append(seconds)
        raw[place] = values
    return raw


def child(repeats: int) -> None:
    """The measurement, printed as JSON (see :func:`main`)."""
    root = Path(tempfile.mkdtemp(prefix="hd-steps-"))
    try:
        print(json.dumps(anyio.run(_measure, repeats, root)))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(quick: bool, args: argparse.Namespace) -> list[h.Table]:
    repeats = args.repeats or (3 if quick else 7)
    table = h.Table(
        f"Step reports: {N} reports a trial, {TRIALS} trials, median of {repeats}",
        ["where", "without reports (ms a run)", "with (ms a run)", "ratio", "us a report"],
        notes=[" ".join(__doc__.split("\n\n")[1].split())],
    )
    # measured in a child started with -c: anyio's worker processes import the main
    # module again, and ``python -m benchmarks``'s (relative imports) cannot be imported
    code = f"from benchmarks.step_reports import child; child({repeats})"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=h.ROOT
    )
    raw: dict[str, dict[str, list[float]]] = json.loads(out.stdout)
    for place, values in raw.items():
        b, r = h.median(values["baseline"]), h.median(values["reports"])
        table.add(place, b * 1e3, r * 1e3, r / b, (r - b) / (N * TRIALS) * 1e6)
    return h.save_benchmark("step-reports", quick, [table], reports=N, trials=TRIALS, raw=raw)
