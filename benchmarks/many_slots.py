"""Many slots at once (issue 23 item 3): the driver's bookkeeping when thousands run.

Two cases, each run in a fresh child process (``python -m benchmarks.many_slots
--child CASE BACKEND``, with ``PYTHONPATH`` set to the hyperdeme it measures):

- ``makespan``: 20,000 evaluations of an ``async def`` objective that awaits
  0.5 s, on 4,000 slots (``num_parallel_evals``), defaults otherwise (the
  journal on disk, ``fsync="batch"``); ideal 2.5 s, target within 5 %. The child
  reports the wall time of ``await hyperdeme.optimize(...)`` and the process's
  CPU time over it: on a shared machine the makespan moves with the load, the
  CPU time a trial much less (it is what the driver spends; the makespan can
  be no less than that times the trials).
- ``memory``: 100,000 trials of an objective that awaits 0.25 s on 10,000 slots,
  streamed with ``hyperdeme.stream``; every 2,000 trials the child samples its
  RSS (psutil). Reported: the peak RSS over the start divided by the trials
  (the issue's "3.2 KB of peak RSS a trial") and the slope of RSS against the
  trial count after a 20 % warm-up (growth per trial, ``Result.trials`` kept).

With ``--baseline REV`` every case also runs hyperdeme at REV, interleaved with
this tree (before/after in the same session). ``--quick``: a tenth of the
evaluations on a tenth of the slots.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import _harness as h

#: case -> (evaluations, slots, seconds each)
CASES = {"makespan": (20_000, 4_000, 0.5), "memory": (100_000, 10_000, 0.25)}
BACKENDS = {"makespan": ("asyncio", "trio"), "memory": ("asyncio",)}
WARMUP = 0.2


def child(case: str, backend: str, scale: float) -> None:
    """Run one case here and print its numbers as one JSON line."""
    import anyio
    import psutil

    import hyperdeme

    evaluations, slots, seconds = _scaled(case, scale)
    space = hyperdeme.Params([["--x", (0.0, 1.0)]])
    process = psutil.Process()

    async def objective(params: dict[str, Any]) -> float:
        await anyio.sleep(seconds)
        return float(params["--x"])

    async def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="hd-many-slots-", dir=_scratch()) as path:
            evaluator = hyperdeme.Evaluator(objective, num_parallel_evals=slots, run_path=path)
            opt = hyperdeme.RandomOptimizer(evaluator, num_iters=evaluations, seed=1)
            if case == "makespan":
                wall, cpu = time.perf_counter(), time.process_time()
                result = await hyperdeme.optimize(opt, space)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                if len(result.trials) != evaluations or result.n_failed:
                    raise RuntimeError(f"expected {evaluations} successful trials: {result}")
                return {"makespan": wall, "cpu": cpu, "evaluations": evaluations}
            samples = [(0, process.memory_info().rss)]
            every, count = max(1, evaluations // 50), 0
            async with hyperdeme.stream(opt, space) as trials:
                async for _ in trials:
                    count += 1
                    if count % every == 0:
                        samples.append((count, process.memory_info().rss))
            return {"samples": samples, "evaluations": evaluations}

    print(json.dumps(anyio.run(run, backend=backend)), flush=True)


def _scratch() -> str:
    """Run paths on the real disk (the system temp dir unless it is tmpfs)."""
    base = Path(tempfile.gettempdir())
    if h.filesystem(base) == "tmpfs":
        base = h.ROOT / ".bench-scratch"
        base.mkdir(exist_ok=True)
    return str(base)


def measure(source: Path, case: str, backend: str, scale: float) -> dict[str, Any]:
    """One child run of ``case`` with hyperdeme from ``source``."""
    command = [sys.executable, "-m", "benchmarks.many_slots", "--child", case, backend]
    done = subprocess.run(
        [*command, "--scale", str(scale)],
        cwd=h.ROOT,
        env={**os.environ, "PYTHONPATH": str(source)},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{case} with hyperdeme at {source} failed: {done.stderr[-2000:]}")
    data: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    if case == "memory":
        samples = data["samples"]
        start, trials = samples[0][1], data["evaluations"]
        after = [(n, rss) for n, rss in samples if n >= WARMUP * trials]
        data["peak_kb_per_trial"] = (max(rss for _, rss in samples) - start) / trials / 1024
        data["slope_kb_per_trial"] = (
            h.slope([n for n, _ in after], [rss for _, rss in after]) / 1024
        )
        data["rss_start_mb"], data["rss_peak_mb"] = (
            start / 2**20,
            max(r for _, r in samples) / 2**20,
        )
    return data


def _runner(
    source: Path, case: str, backend: str, scale: float, out: list[dict[str, Any]]
) -> Callable[[], float]:
    def run() -> float:
        data = measure(source, case, backend, scale)
        out.append(data)
        return float(data["makespan"] if case == "makespan" else data["peak_kb_per_trial"])

    return run


def main(quick: bool, args: Any) -> list[h.Table]:
    scale = 0.1 if quick else 1.0
    repeats = args.repeats or (2 if quick else 3)
    sources = {"this tree": h.ROOT / "src"}
    if args.baseline:
        sources = {args.baseline: h.baseline_source(args.baseline), **sources}
    n, slots, seconds = _scaled("makespan", scale)
    ideal = n * seconds / slots
    makespan = h.Table(
        f"many slots: {n} x {seconds} s (async def) on {slots} slots, ideal {ideal:.2f} s "
        f"(median [min, max] of {repeats}, interleaved, child processes)",
        ["hyperdeme", "backend", "makespan s", "overhead %", "<= 5 %", "CPU us per trial"],
    )
    mn, mslots, mseconds = _scaled("memory", scale)
    memory = h.Table(
        f"many slots: {mn} x {mseconds} s on {mslots} slots, driver memory "
        f"(median [min, max] of {repeats}, interleaved)",
        [
            "hyperdeme",
            "peak RSS KB per trial",
            "growth KB per trial",
            "RSS start MB",
            "RSS peak MB",
        ],
    )
    results: dict[str, Any] = {}
    runs: dict[str, list[dict[str, Any]]] = {}
    runners: dict[str, Callable[[], float]] = {}
    for label, source in sources.items():
        for case, backends in BACKENDS.items():
            for backend in backends:
                key = f"{label}|{case}|{backend}"
                runs[key] = []
                runners[key] = _runner(source, case, backend, scale, runs[key])
    print(f"[many-slots] {len(runners) * repeats} child runs ...", flush=True)
    values = h.interleave(runners, repeats)
    for key, got in values.items():
        label, case, backend = key.split("|")
        results[key] = {"values": got, "runs": runs[key]}
        if case == "makespan":
            med = h.median(got)
            cpu = [r["cpu"] / r["evaluations"] * 1e6 for r in runs[key]]
            makespan.add(
                label,
                backend,
                _spread(got),
                (med / ideal - 1) * 100,
                h.verdict((med / ideal - 1) * 100, 5.0, higher_is_better=False),
                _spread(cpu),
            )
        else:
            memory.add(
                label,
                _spread(got),
                _spread([r["slope_kb_per_trial"] for r in runs[key]]),
                h.median([r["rss_start_mb"] for r in runs[key]]),
                h.median([r["rss_peak_mb"] for r in runs[key]]),
            )
    makespan.notes.append(
        "CPU: the child's process time over the run (every thread) per evaluation; "
        f"load average at the end: {os.getloadavg()[0]:.2f}"
    )
    return h.save_benchmark(
        "many_slots",
        quick,
        [makespan, memory],
        settings={"cases": CASES, "repeats": repeats, "baseline": args.baseline or None},
        results=results,
    )


def _scaled(case: str, scale: float) -> tuple[int, int, float]:
    """The case's evaluations and slots times ``scale`` (the ideal makespan unchanged)."""
    evaluations, slots, seconds = CASES[case]
    return int(evaluations * scale), max(1, int(slots * scale)), seconds


def _spread(values: list[float]) -> str:
    return f"{h.median(values):.3g} [{min(values):.3g}, {max(values):.3g}]"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=2, metavar=("CASE", "BACKEND"), required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    options = parser.parse_args()
    child(options.child[0], options.child[1], options.scale)
