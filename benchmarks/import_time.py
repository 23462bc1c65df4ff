"""How long ``import hyperdeme`` takes, and which heavy modules it loads (issue 16.10).

Each repeat starts fresh interpreters, interleaved (:func:`_harness.interleave`):
``python -c pass`` (the interpreter's own start) and ``python -c "import
hyperdeme"``; the import costs the difference of the medians. Wall time is what
a user waits; CPU time (user + system, from ``wait4``) is what the import
computes, less disturbed by other work on a shared machine; the fastest of the
repeats (minus the fastest start) is what a quiet machine gives. Bytecode is
compiled first (``compileall``), as an installed package has it. Target: under
100 ms (median of 9, minus the interpreter's start).

With ``--baseline REV``, the same import of hyperdeme at git revision REV is
timed in the same repeats (before/after). The heavy modules are those whose
import is deferred to where they are first needed; ``tests/test_import_cost.py``
keeps them out of ``import hyperdeme``.
"""

from __future__ import annotations

import compileall
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import _harness as h

TARGET_MS = 100.0
REPEATS = 9
#: deferred to where they are first needed; none is loaded by ``import hyperdeme``
HEAVY = (
    "numpy",
    "asyncio",
    "ssl",
    "networkx",
    "matplotlib",
    "structlog",
    "rich",
    "tenacity",
    "secrets",
    "importlib.metadata",  # plug-ins are looked up when first asked for
)


def _start(source: Path | None, code: str) -> tuple[float, float]:
    """(wall, cpu) seconds of a fresh interpreter running ``code`` with ``source`` first
    on the path (none: no hyperdeme at all)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)}
    env["PYTHONPATH"] = str(source) if source else ""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"[import] {code!r} with {source} exited {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def loaded_heavy(source: Path) -> list[str]:
    """The :data:`HEAVY` modules that ``import hyperdeme`` from ``source`` loads."""
    probe = (
        "import sys, json, hyperdeme; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    found: list[str] = json.loads(done.stdout)
    return found


def main(quick: bool, args: Any) -> list[h.Table]:
    repeats = args.repeats or REPEATS
    sources = {"this tree": h.ROOT / "src"}
    if args.baseline:
        sources[args.baseline] = h.baseline_source(args.baseline)
    for source in sources.values():
        compileall.compile_dir(source, quiet=1)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in ["start", *sources]}

    def runner(name: str) -> Any:
        def run() -> float:
            source = sources.get(name)
            samples[name].append(_start(source, "import hyperdeme" if source else "pass"))
            return samples[name][-1][0]

        return run

    print(f"[import] {repeats} repeats of {', '.join(samples)} ...", flush=True)
    h.interleave({name: runner(name) for name in samples}, repeats)
    start_wall = h.median([wall for wall, _ in samples["start"]])
    start_cpu = h.median([cpu for _, cpu in samples["start"]])
    table = h.Table(
        f"import hyperdeme, median of {repeats} fresh interpreters minus `python -c pass`",
        [
            "tree",
            "wall ms",
            "cpu ms",
            "fastest ms",
            f"< {TARGET_MS:.0f} ms",
            "heavy modules loaded",
        ],
    )
    table.notes.append(
        f"`python -c pass`: {start_wall * 1e3:.1f} ms wall, {start_cpu * 1e3:.1f} ms cpu"
    )
    results: dict[str, Any] = {
        "start": {
            "wall_ms": start_wall * 1e3,
            "cpu_ms": start_cpu * 1e3,
            "samples": samples["start"],
        }
    }
    for name, source in sources.items():
        wall = (h.median([w for w, _ in samples[name]]) - start_wall) * 1e3
        cpu = (h.median([c for _, c in samples[name]]) - start_cpu) * 1e3
        fastest = (min(w for w, _ in samples[name]) - min(w for w, _ in samples["start"])) * 1e3
        heavy = loaded_heavy(source)
        verdict = h.verdict(wall, TARGET_MS, False)
        table.add(name, wall, cpu, fastest, verdict, ", ".join(heavy) or "none")
        results[name] = {
            "wall_ms": wall,
            "cpu_ms": cpu,
            "fastest_ms": fastest,
            "heavy": heavy,
            "samples": samples[name],
        }
    return h.save_benchmark(
        "import",
        quick,
        [table],
        settings={"repeats": repeats, "baseline": args.baseline or None, "heavy": HEAVY},
        results=results,
    )


if __name__ == "__main__":
    h.run_alone(main, __doc__, baseline=True)
