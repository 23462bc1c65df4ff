"""Grid construction at an enormous ``grid_size`` (issue #9): time and peak memory.

A grid's size is bounded by the work, not the settings: each range's grid is a
lazy axis and the product is walked as an odometer. Two workloads, each timed
(``perf_counter``, without tracing) and measured for peak allocation
(``tracemalloc``, a separate call: tracing slows Python several times), in
interleaved repeats (:func:`_harness.interleave`):

- *six parameters*: ``(1e-5, 1.0)`` log, ``(0.0, 1.0)``, ``(1, 64)``,
  ``(1, 10**12)`` log, ``(0, 10**9)`` and a 3-value list at
  ``grid_size=10**9`` (7.8e37 points): ``GridSearch(space, GridConfig(...))``
  plus 100 asks. Before issue 9 each axis was listed and the product copied:
  the process ran out of memory.
- *dense range*: the corner case scanned in full, once, in chunks: points
  closer together than floats can tell apart,
  ``Range("--x", 1.0, 1.0 + 1e-9).axis(10**8)``, its length and first and last
  point.

Target: the six-parameter grid in under a second and a megabyte (the dense
range has none: it is the one case that costs time, never memory).
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from hyperdeme import GridSearch, Params, Range
from hyperdeme.strategies import GridConfig

from . import _harness as h

GRID_SIZE = 10**9
ASKS = 100
REPEATS = 5
TARGET_S, TARGET_BYTES = 1.0, 10**6
SIX = [
    ["--lr", (1e-5, 1.0), {"log": True}],
    ["--x", (0.0, 1.0)],
    ["--units", (1, 64)],
    ["--samples", (1, 10**12), {"log": True}],
    ["--seed", (0, 10**9)],
    ["--opt", ["sgd", "adam", "rms"]],
]


def six_parameters() -> int:
    """Build the grid and ask ``ASKS`` points; the number of points of the product."""
    grid = GridSearch(Params(SIX), GridConfig(grid_size=GRID_SIZE))
    for trial_id in range(ASKS):
        if grid.ask(trial_id) is None:
            raise RuntimeError(f"the grid ran out after {trial_id} asks")
    return grid.size


def dense_range() -> int:
    """The dense axis' length, after reading its first and last point."""
    axis = Range("--x", 1.0, 1.0 + 1e-9, integer=False).axis(10**8)
    _ = axis[0], axis[len(axis) - 1]
    return len(axis)


WORKLOADS: dict[str, Callable[[], int]] = {
    "six parameters, grid_size=10**9, 100 asks": six_parameters,
    "dense range, axis(10**8)": dense_range,
}


def _seconds(work: Callable[[], int]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _peak_bytes(work: Callable[[], int]) -> float:
    tracemalloc.start()
    try:
        work()
        return float(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def main(quick: bool, args: Any) -> list[h.Table]:
    repeats = args.repeats or (3 if quick else REPEATS)
    sizes = {name: work() for name, work in WORKLOADS.items()}  # also warms imports up
    runners: dict[str, Callable[[], float]] = {}
    for name, work in WORKLOADS.items():
        runners[f"{name}|s"] = lambda w=work: _seconds(w)
        runners[f"{name}|bytes"] = lambda w=work: _peak_bytes(w)
    samples = h.interleave(runners, repeats)
    table = h.Table(
        f"grid construction, median [min, max] of {repeats} interleaved",
        ["workload", "points", "seconds", "peak kB", f"< {TARGET_S:g} s, < 1 MB"],
    )
    results: dict[str, Any] = {}
    for name, work in WORKLOADS.items():
        seconds, peak = samples[f"{name}|s"], samples[f"{name}|bytes"]
        ok = h.median(seconds) < TARGET_S and h.median(peak) < TARGET_BYTES
        verdict = ("yes" if ok else "NO") if work is six_parameters else "-"
        table.add(
            name,
            f"{sizes[name]:.2g}",
            f"{h.fmt(h.median(seconds))} [{h.fmt(min(seconds))}, {h.fmt(max(seconds))}]",
            f"{h.fmt(h.median(peak) / 1e3)} [{h.fmt(min(peak) / 1e3)}, {h.fmt(max(peak) / 1e3)}]",
            verdict,
        )
        results[name] = {"points": sizes[name], "seconds": seconds, "peak_bytes": peak}
    return h.save_benchmark(
        "grid",
        quick,
        [table],
        settings={"grid_size": GRID_SIZE, "asks": ASKS, "repeats": repeats},
        results=results,
    )


if __name__ == "__main__":
    h.run_alone(main, __doc__)
