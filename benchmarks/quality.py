"""Search quality (issue #13): best FoM after a budget of evaluations, over seeds.

A *cell* is one (optimizer, problem, budget, seed) run; its best FoM is kept
in ``results/quality-cells.json`` keyed by a fingerprint of the code that
produced it (the benchmark's problem and peer modules, the peer's version, and
for hyperdeme entries the library's source). A cell already there with the
same fingerprint is not run again, so a long run resumes where it stopped, and
``issue13-table`` reuses the quality grid's cells. ``--fresh`` ignores the cache.

Configurations:

- ``quality-grid``: every problem at 100, 400 and 2,000 evaluations, 10 seeds
  (quick: 4 problems at 100 and 400, 3 seeds; ``--seeds N --first-seed S`` runs
  seeds S..S+N-1, e.g. held-out seeds); medians and quartiles; a list of
  where a peer beats every hyperdeme entry (a finding, not a failure).
- ``issue13-table``: issue #13's reference table exactly: shifted Rastrigin-10D
  (optimum at 2.3, bounds +-5.12), 400 evaluations, seeds 1-5, median best FoM,
  printed beside the issue's numbers; plus crayai's GA defaults.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hyperdeme

from . import _harness as h
from ._peers import ENTRIES, Entry
from ._problems import PROBLEMS

CACHE = h.RESULTS / "quality-cells.json"
QUICK_PROBLEMS = ("rastrigin-10d", "branin", "mixed", "learning-curve")
#: issue #13's table: entry -> median best FoM it reports
ISSUE13 = {
    "hyperdeme-random": 88.5,
    "optuna-tpe": 61.0,
    "optuna-cmaes": 61.6,
    "nevergrad-twopointsde": 60.7,
    "hyperdeme-ga-2x20": 43.3,
    "deap-easimple": 36.7,
    "nevergrad-ngopt": 28.9,
    "nevergrad-cma": 22.9,
    "hyperdeme-ga-crayai": None,
    "hyperdeme-ga-budget": None,
}
#: rough seconds per evaluation, for the first estimate (refined as cells finish)
_PRIOR = {"optuna-cmaes": 1.5e-3, "nevergrad-ngopt": 3e-3}
_PRIOR_PROBLEM = {"sgd-digits": 0.04}


@dataclass(frozen=True)
class Config:
    name: str
    problems: tuple[str, ...]
    budgets: tuple[int, ...]
    seeds: tuple[int, ...]
    entries: tuple[str, ...]


def config(name: str, quick: bool, args: Any) -> Config:
    if name == "issue13-table":
        return Config(name, ("rastrigin-10d",), (400,), (1, 2, 3, 4, 5), tuple(ISSUE13))
    problems = QUICK_PROBLEMS if quick else tuple(PROBLEMS)
    budgets = (100, 400) if quick else (100, 400, 2000)
    seeds = 3 if quick else 10
    return Config(
        name,
        tuple(args.problems.split(",")) if args.problems else problems,
        tuple(int(b) for b in args.budgets.split(",")) if args.budgets else budgets,
        tuple(range(args.first_seed, args.first_seed + (args.seeds or seeds))),
        tuple(args.optimizers.split(",")) if args.optimizers else tuple(ENTRIES),
    )


# ----------------------------------------------------------------------------- cells
def _digest(paths: Sequence[Path]) -> str:
    sha = hashlib.sha256()
    for path in sorted(paths):
        sha.update(path.read_bytes())
    return sha.hexdigest()[:12]


def fingerprint(entry: Entry) -> str:
    here = Path(__file__).parent
    bench = _digest(
        [here / n for n in ("_problems.py", "_spaces.py", "_peers.py", "_streaming.py")]
        + [here / "learning_curve.py"]
    )
    version = entry.version()
    if entry.family == "hyperdeme":
        version += "+" + _digest(list(Path(hyperdeme.__file__).parent.rglob("*.py")))
    return f"{bench}|{entry.family}=={version}"


def key(entry: str, problem: str, budget: int, seed: int) -> str:
    return f"{entry}|{problem}|{budget}|{seed}"


def compute(entry_name: str, problem_name: str, budget: int, seed: int) -> dict[str, Any]:
    """Run one cell (in a worker process with ``--jobs``)."""
    entry, problem = ENTRIES[entry_name], PROBLEMS[problem_name]
    start = time.perf_counter()
    try:
        foms = entry.run(problem, budget, seed)
    except Exception as error:  # a peer's failure is a result of the cell, not a crash
        return {"error": f"{type(error).__name__}: {error}", "seconds": 0.0}
    best = min(foms)
    return {
        "best": best,
        "evals": len(foms),
        "best_at": foms.index(best) + 1,
        "seconds": round(time.perf_counter() - start, 3),
    }


def _prior(entry: str, problem: str, budget: int) -> float:
    per_eval = _PRIOR.get(entry, 5e-4) + _PRIOR_PROBLEM.get(problem, 2e-5)
    if entry == "optuna-tpe":  # each trial looks at all before it: ~25 ms each at 2,000
        per_eval += 1e-3 + budget * 1.2e-5
    return budget * per_eval


def run_cells(
    cfg: Config, jobs: int, fresh: bool, dry_run: bool = False
) -> dict[str, dict[str, Any]]:
    """Every cell of ``cfg`` (cached or computed now), keyed by :func:`key`."""
    cache = h.load(CACHE).get("cells", {})
    prints = {name: fingerprint(ENTRIES[name]) for name in cfg.entries if name in ENTRIES}
    wanted, todo = {}, []
    for entry in cfg.entries:
        e = ENTRIES[entry]
        for problem in cfg.problems:
            if e.missing() or not e.applies(PROBLEMS[problem]):
                continue
            for budget in cfg.budgets:
                for seed in cfg.seeds:
                    k = key(entry, problem, budget, seed)
                    cell = cache.get(k)
                    if not fresh and cell and cell.get("fingerprint") == prints[entry]:
                        wanted[k] = cell
                    else:
                        todo.append((entry, problem, budget, seed))
    total = sum(_prior(e, p, b) for e, p, b, _ in todo)
    print(
        f"[{cfg.name}] {len(wanted)} cells cached, {len(todo)} to run, "
        f"estimate ~{total / max(1, jobs) / 60:.1f} min with --jobs {jobs}",
        flush=True,
    )
    if dry_run:
        return wanted
    count, cells, done_prior = len(wanted), len(wanted) + len(todo), 0.0
    started = last_print = time.perf_counter()

    def record(cell_args: tuple[str, str, int, int], cell: dict[str, Any]) -> None:
        nonlocal count, done_prior, last_print
        k, now = key(*cell_args), time.perf_counter()
        cell |= {"fingerprint": prints[cell_args[0]], "date": h.now()}
        wanted[k] = cache[k] = cell
        h.save(CACHE, {"cells": cache})
        count += 1
        done_prior += _prior(*cell_args[:3])
        if "error" in cell or now - last_print > 10 or count == cells:
            left = (total - done_prior) * (now - started) / max(done_prior, 1e-9)
            status = cell.get("error") or f"best {h.fmt(cell['best'])}"
            print(f"  [{count}/{cells}] {k}: {status}, ~{left / 60:.1f} min left", flush=True)
            last_print = now

    if jobs <= 1:
        for cell_args in todo:
            record(cell_args, compute(*cell_args))
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {pool.submit(compute, *cell_args): cell_args for cell_args in todo}
            for future in as_completed(futures):
                record(futures[future], future.result())
    return wanted


def main(name: str, quick: bool, args: Any) -> list[h.Table]:
    from . import _quality_report as report

    cfg = config(name, quick, args)
    unknown = [e for e in cfg.entries if e not in ENTRIES] + [
        p for p in cfg.problems if p not in PROBLEMS
    ]
    if unknown:
        raise SystemExit(f"unknown optimizer or problem: {', '.join(unknown)}; see --list")
    cells = run_cells(cfg, args.jobs, args.fresh, args.dry_run)
    if args.dry_run:
        return []
    summary = report.summarize(cfg, cells)
    if name == "issue13-table":
        tables = [report.issue13_table(cfg, summary, ISSUE13)]
        wins: list[str] = []
    else:
        wins = report.findings(cfg, summary)
        tables = report.tables(cfg, summary)
        tables.append(h.Table("where a peer wins (findings)", ["finding"], [[w] for w in wins]))
    return h.save_benchmark(
        (name != "issue13-table" and args.name) or name,
        quick and name != "issue13-table",
        tables,
        config=cfg.__dict__,
        fingerprints={e: fingerprint(ENTRIES[e]) for e in cfg.entries},
        summary=summary,
        findings=wins,
        cells={k: cells[k] for k in sorted(cells)},
    )
