"""Resume and ``aread_journal`` of 20,000 trials beside a 1 ms ticker, before/after,
interleaved (issue 26's last targets: never block the loop more than 20 ms at a time).

The probes of :mod:`benchmarks.loop_lag` (each in a fresh interpreter), for the
``resume`` and ``aread`` scenarios only, run in rounds that alternate this tree and
``--baseline REV`` (default ``main``), so both see the same load. The wall-clock lag
of a loaded two-core machine is mostly the machine's; so each row also gives what
the load barely moves: the full collections of the cyclic GC during the work (a
pause of every thread each) and the most CPU the loop's own thread spent in one tick
(work on the loop), and the load average when the probe ended. The journal of each
size is made once (by this tree) and copied into each probe's scratch directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import _harness as h
from .loop_lag import PROBE, SCENARIOS, _percentile, _probe

#: interleaved rounds (quick: 1)
ROUNDS = 3


def main(quick: bool, args: Any) -> list[h.Table]:
    baseline = args.baseline or "main"
    sources = {"this tree": h.ROOT / "src", baseline: h.baseline_source(baseline)}
    table = h.Table(
        "resume / aread_journal beside a 1 ms ticker: lag in ms; full GCs during the work; "
        "the loop thread's most CPU in one tick",
        ["round", "tree", "scenario", "size", "p99", "max", "full GCs", "their ms",
         "loop CPU max ms", "seconds", "load", "max <= 20 ms"],
    )  # fmt: skip
    raw: dict[str, Any] = {}
    with h.scratch_dir("lag-journal-") as made:
        os.environ["LAG_PROBE_JOURNAL"] = str(_made_journal(made, quick))
        try:
            _rounds(quick, args, sources, table, raw)
        finally:
            del os.environ["LAG_PROBE_JOURNAL"]
    return h.save_benchmark("loop-lag-resume", quick, [table], runs=raw)


def _made_journal(scratch: Path, quick: bool) -> Path:
    """A run directory holding the experiment ``big`` of the scenarios' size."""
    size = SCENARIOS["resume"][1 if quick else 0]
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[3]); "
        "import _lag_probe; _lag_probe._journal(Path(sys.argv[1]), int(sys.argv[2]))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(scratch), str(size), str(PROBE.parent)],
        env={**os.environ, "PYTHONPATH": str(h.ROOT / "src"), "PYTHONWARNINGS": "ignore"},
        check=True,
    )
    return scratch / "run"


def _rounds(
    quick: bool, args: Any, sources: dict[str, Any], table: h.Table, raw: dict[str, Any]
) -> None:
    for number in range(1, (1 if quick else args.repeats or ROUNDS) + 1):
        order = list(sources) if number % 2 else list(sources)[::-1]
        for scenario in ("resume", "aread"):
            size, quick_size, _ = SCENARIOS[scenario]
            n = quick_size if quick else size
            for name in order:
                print(f"[loop-lag-resume] round {number}: {name}: {scenario} ({n}) ...", flush=True)
                result = _probe(sources[name], scenario, n)  # type: ignore[arg-type]
                raw[f"{number}/{name}/{scenario}"] = result
                worst = max(result["busy"], default=float("nan")) * 1e3
                table.add(
                    number, name, scenario, n, _percentile(result["busy"], 0.99) * 1e3, worst,
                    result.get("full_gcs", "-"),
                    "/".join(f"{ms:.0f}" for ms in result.get("full_gc_ms", [])) or "-",
                    result.get("loop_cpu_max", float("nan")) * 1e3, result["seconds"],
                    result.get("load", float("nan")),
                    h.verdict(worst, 20.0, higher_is_better=False),
                )  # fmt: skip
