"""Profile one hot path: ``scripts/bench --profile NAME [--quick]``.

Workloads (``NAME``):

- ``inprocess-random`` / ``inprocess-genetic``: 20,000 instant ``async def``
  trials (quick: 5,000), the engine's per-trial cost;
- ``inprocess-sync``: random with a plain function (worker-thread hop);
- ``processes``: 400 trivial processes on 8 slots through the local launcher
  (quick: 200), in a fresh directory on the real disk.

Each runs in a child process twice: under py-spy (``record --format
speedscope``: open ``results/profile-NAME.speedscope.json`` in speedscope)
when it can trace here, and under pyinstrument (``results/profile-NAME.txt``,
printed, and ``.html``). Run a workload alone with
``python -m benchmarks.profile_hot_path NAME N``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import _harness as h

WORKLOADS = ("inprocess-random", "inprocess-genetic", "inprocess-sync", "processes")


def workload(name: str, size: int) -> None:
    import anyio

    import hyperdeme

    from .throughput_inprocess import SPACE, instant

    async def objective(params: dict[str, Any]) -> float:
        return instant(params)

    async def run(root: Path) -> None:
        if name == "processes":
            evaluator = hyperdeme.Evaluator(
                "printf 'FoM: 1\\n' #", workload_manager="local", num_parallel_evals=8
            )
        else:
            function = instant if name == "inprocess-sync" else objective
            evaluator = hyperdeme.Evaluator(function, run_path=str(root / "run"), fsync=False)
        if name == "inprocess-genetic":
            opt: hyperdeme.Optimizer = hyperdeme.GeneticOptimizer(
                evaluator, generations=max(1, size // 100), num_demes=4, pop_size=25, seed=1
            )
        else:
            opt = hyperdeme.RandomOptimizer(evaluator, num_iters=size, seed=1)
        with h.fresh_cwd(root):
            await hyperdeme.optimize(opt, SPACE.to_hyperdeme())

    with h.scratch_dir("hd-profile-") as root:
        anyio.run(run, root)


def main(name: str, quick: bool) -> None:
    if name not in WORKLOADS:
        raise SystemExit(f"--profile: choose one of {', '.join(WORKLOADS)}, got {name!r}")
    size = (200 if quick else 400) if name == "processes" else (5000 if quick else 20_000)
    child = [sys.executable, "-m", "benchmarks.profile_hot_path", name, str(size)]
    base = h.RESULTS / f"profile-{name}"
    h.RESULTS.mkdir(parents=True, exist_ok=True)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if Path(py_spy).exists():
        out = f"{base}.speedscope.json"
        done = subprocess.run(
            [py_spy, "record", "--format", "speedscope", "--rate", "250", "-o", out, "--", *child],
            cwd=h.ROOT,
            capture_output=True,
            text=True,
        )
        print(f"py-spy: {out}" if done.returncode == 0 else f"py-spy failed: {done.stderr[-500:]}")
    text = Path(f"{base}.txt")
    for renderer, path in (("text", text), ("html", Path(f"{base}.html"))):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pyinstrument",
                "-r",
                renderer,
                "-o",
                str(path),
                "-m",
                "benchmarks.profile_hot_path",
                name,
                str(size),
            ],
            cwd=h.ROOT,
            check=True,
        )
    print(text.read_text())
    print(f"pyinstrument: {text}, {base}.html")


if __name__ == "__main__":
    workload(sys.argv[1], int(sys.argv[2]))
