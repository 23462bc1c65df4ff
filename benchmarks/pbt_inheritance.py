"""crayai's PBT (the genetic optimizer with checkpoints): do children continue their fitter
parent's own weights, and what does it do to the best FoM?

Runs ``examples/pbt/train.py`` (a real numpy network, one epoch per trial) under
``hpo.genetic.Optimizer`` as ``examples/pbt/optimize.py --genetic`` does
(1 deme of 8, 12 generations, mutation_rate 0.3, 4 slots), in both modes and
several seeds. A child *continued its fitter parent* when the history the
program loaded from its checkpoint (``loaded: [...]``) is the one its fitter
parent's program saved (``saved: [...]``): read from the programs' own output,
not from hyperdeme's bookkeeping. The journal's ``checkpoint_from`` is checked
against the same output (``lineage ok``). Counts, not timings: the machine's
load does not change them, only which trial finishes first.

    PYTHONPATH=src python benchmarks/pbt_inheritance.py --seeds 1,2,3,4,5 [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import hyperdeme
from hyperdeme import hpo

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pbt"
MODEL = "@checkpoint/model.npz"


def _printed(run_dir: Path, trial_id: int, what: str) -> Any:
    for line in (run_dir / f"{trial_id:05d}" / "stdout.log").read_text().splitlines():
        if line.startswith(f"{what}: "):
            return json.loads(line[len(what) + 2 :])
    return None


def run(seed: int, mode: str, top: Path) -> dict[str, Any]:
    """One run: children, how many continued their fitter parent's own weights, best FoM."""
    evaluator = hpo.Evaluator(
        f"{sys.executable} train.py --epochs 1 --load_checkpoint {MODEL} --save_checkpoint {MODEL}",
        src_path=str(EXAMPLE),
        run_path=str(top / "run"),
        checkpoint=str(top / "ckpt"),
        num_parallel_evals=4,
        fsync=False,
    )
    params = hpo.Params(
        [["--lr", 0.05, (1e-3, 1.0), {"log": True}], ["--momentum", 0.9, (0.0, 0.99)]]
    )
    opt = hpo.genetic.Optimizer(
        evaluator, generations=12, num_demes=1, pop_size=8, mutation_rate=0.3,
        mode=mode, seed=seed, name="ga",
    )  # fmt: skip
    result = opt.optimize(params)
    run_dir = top / "run" / "ga"
    trials = {t.id: t for t in result.trials}
    children = own = lineage_ok = 0
    for trial in trials.values():
        source = trial.info.get("checkpoint_from")
        loaded = _printed(run_dir, trial.id, "loaded")
        lineage_ok += loaded == ([] if source is None else _printed(run_dir, source, "saved"))
        parents = trial.info.get("parents") or []
        if not parents:
            continue
        children += 1
        fitter = min(parents, key=lambda p: (trials[p].fom if trials[p].ok else float("inf"), p))
        own += loaded == _printed(run_dir, fitter, "saved")
    return {
        "seed": seed,
        "mode": mode,
        "children": children,
        "own": own,
        "lineage_ok": lineage_ok,
        "trials": len(trials),
        "best_fom": result.best_fom,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--modes", default="steady,generational")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    rows = []
    for mode in args.modes.split(","):
        for seed in map(int, args.seeds.split(",")):
            with tempfile.TemporaryDirectory() as top:
                row = run(seed, mode, Path(top))
            print(json.dumps(row), flush=True)
            rows.append(row)
    for mode in args.modes.split(","):
        mine = [r for r in rows if r["mode"] == mode]
        fractions = [r["own"] / r["children"] for r in mine]
        foms = [r["best_fom"] for r in mine]
        print(
            f"{mode}: continued {sum(r['own'] for r in mine)}/{sum(r['children'] for r in mine)}"
            f" (per seed median {statistics.median(fractions):.2f}, min {min(fractions):.2f},"
            f" max {max(fractions):.2f}); best FoM median {statistics.median(foms):.4f}"
            f" [min {min(foms):.4f}, max {max(foms):.4f}];"
            f" lineage matches output {sum(r['lineage_ok'] for r in mine)}"
            f"/{sum(r['trials'] for r in mine)}"
        )
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    print(hyperdeme.__file__, file=sys.stderr)
    main()
