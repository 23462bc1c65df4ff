"""Multi-objective search (issue 20, item 3): hyperdeme's genetic optimizer with two
objectives (NSGA-II selection inside each deme) against Optuna's NSGAIISampler.

Problems: ZDT1 and ZDT2 (Zitzler, Deb and Thiele 2000) in 6 dimensions, both
objectives minimized, x in [0, 1]^6::

    f1 = x1,  g = 1 + 9 * sum(x2..x6) / 5,  f2 = g * h
    ZDT1: h = 1 - sqrt(f1 / g)   (convex front f2 = 1 - sqrt(f1), at g = 1)
    ZDT2: h = 1 - (f1 / g)^2     (concave front f2 = 1 - f1^2)

Score: the hypervolume of the Pareto front of all evaluations of a run (the
area dominated by the front and bounded by the reference point ``REFERENCE``
= (1.1, 1.1)), higher is better; the true fronts reach 1.21 - 1/3 = 0.8767
(ZDT1) and 1.21 - 2/3 = 0.5433 (ZDT2). A front outside the box counts 0.

Each cell is one run of ``budget`` evaluations with one seed, in-process
(an ``async def`` objective returning both objectives, one slot, journal
without fsync) for hyperdeme, ``study.optimize`` for Optuna; both seeded.
hyperdeme's entry is ``GeneticOptimizer(max_evals=budget, seed=seed)`` with
``Evaluator(objectives={"f1": "minimize", "f2": "minimize"})``; Optuna's is
``NSGAIISampler(seed=seed)`` at its defaults (population 50, 8 generations in
400 evaluations) and, so that the comparison is not only against a default
sized for larger budgets, with ``population_size=20`` (20 generations).

``hyperdeme-optuna-nsga2`` is ``OptunaOptimizer(sampler=NSGAIISampler(seed=seed))``
on the same evaluator: Optuna's NSGA-II on hyperdeme's engine, told the same two
objectives, to compare with Optuna's own study (same seed). It differs only where
NSGA-II suggests a point already evaluated: hyperdeme does not run it again but
tells the study the earlier result and asks again (a study trial, not an evaluation).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio

import hyperdeme

from . import _harness as h

REFERENCE = (1.1, 1.1)
DIM = 6
FLAGS = tuple(f"--x{i}" for i in range(DIM))
#: the hypervolume of each problem's true front within REFERENCE
IDEAL = {"zdt1-6d": 1.21 - 1 / 3, "zdt2-6d": 1.21 - 2 / 3}

Objective = Callable[[Mapping[str, float]], tuple[float, float]]


def _zdt(shape: Callable[[float], float]) -> Objective:
    def objective(params: Mapping[str, float]) -> tuple[float, float]:
        x = [float(params[flag]) for flag in FLAGS]
        f1 = x[0]
        g = 1 + 9 * sum(x[1:]) / (DIM - 1)
        return f1, g * (1 - shape(f1 / g))

    return objective


PROBLEMS: dict[str, Objective] = {
    "zdt1-6d": _zdt(math.sqrt),
    "zdt2-6d": _zdt(lambda r: r * r),
}


def hypervolume(points: Sequence[tuple[float, float]], reference: tuple[float, float]) -> float:
    """The area of the 2-D region that ``points`` dominate inside ``reference``
    (both objectives minimized): a sweep along the first objective, O(N log N)."""
    inside = sorted((a, b) for a, b in points if a < reference[0] and b < reference[1])
    area, ceiling = 0.0, reference[1]
    for a, b in inside:
        if b < ceiling:
            area += (reference[0] - a) * (ceiling - b)
            ceiling = b
    return area


# ----------------------------------------------------------------------------- runs
def run_hyperdeme(problem: str, budget: int, seed: int) -> list[tuple[float, float]]:
    return anyio.run(_hyperdeme, PROBLEMS[problem], budget, seed)


def run_hyperdeme_nsga2(problem: str, budget: int, seed: int) -> list[tuple[float, float]]:
    return anyio.run(_hyperdeme, PROBLEMS[problem], budget, seed, "optuna-nsga2")


async def _hyperdeme(
    objective: Objective, budget: int, seed: int, strategy: str = "genetic"
) -> list[tuple[float, float]]:
    async def evaluate(params: dict[str, Any]) -> dict[str, float]:
        f1, f2 = objective(params)
        return {"f1": f1, "f2": f2}

    params = hyperdeme.Params([[flag, (0.0, 1.0)] for flag in FLAGS])  # no defaults
    points: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="hd-pareto-") as run_path:
        evaluator = hyperdeme.Evaluator(
            evaluate,
            run_path=run_path,
            fsync=False,
            objectives={"f1": "minimize", "f2": "minimize"},
        )
        optimizer: hyperdeme.Optimizer
        if strategy == "genetic":
            optimizer = hyperdeme.GeneticOptimizer(evaluator, max_evals=budget, seed=seed)
        else:
            import optuna

            sampler = optuna.samplers.NSGAIISampler(seed=seed)
            optimizer = hyperdeme.OptunaOptimizer(evaluator, sampler=sampler, max_evals=budget)
        async with hyperdeme.stream(optimizer, params) as trials:
            async for trial in trials:
                if trial.ok:
                    points.append((trial.objectives["f1"], trial.objectives["f2"]))
    return points


def _optuna(population: int | None) -> Callable[[str, int, int], list[tuple[float, float]]]:
    def run(problem: str, budget: int, seed: int) -> list[tuple[float, float]]:
        return run_optuna(problem, budget, seed, population=population)

    return run


def run_optuna(
    problem: str, budget: int, seed: int, *, population: int | None = None
) -> list[tuple[float, float]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    objective = PROBLEMS[problem]

    def evaluate(trial: optuna.Trial) -> tuple[float, float]:
        return objective({flag: trial.suggest_float(flag, 0.0, 1.0) for flag in FLAGS})

    sizing = {} if population is None else {"population_size": population}
    study = optuna.create_study(
        directions=["minimize", "minimize"],
        sampler=optuna.samplers.NSGAIISampler(seed=seed, **sizing),
    )
    study.optimize(evaluate, n_trials=budget)
    return [(t.values[0], t.values[1]) for t in study.trials if t.values is not None]


ENTRIES: dict[str, Callable[[str, int, int], list[tuple[float, float]]]] = {
    "hyperdeme-ga": run_hyperdeme,
    "optuna-nsga2": _optuna(None),
    "optuna-nsga2-pop20": _optuna(20),
    "hyperdeme-optuna-nsga2": run_hyperdeme_nsga2,
}


def cell(entry: str, problem: str, budget: int, seed: int) -> float:
    return hypervolume(ENTRIES[entry](problem, budget, seed), REFERENCE)


# ----------------------------------------------------------------------------- main
def main(quick: bool, args: Any) -> list[h.Table]:
    budgets = [int(b) for b in args.budgets.split(",")] if args.budgets else [400]
    seeds = range(args.first_seed, args.first_seed + (args.seeds or (3 if quick else 10)))
    problems = args.problems.split(",") if args.problems else list(PROBLEMS)
    cells: dict[str, list[float]] = {}
    for problem in problems:
        for budget in budgets:
            for entry in ENTRIES:
                key = f"{entry}|{problem}|{budget}"
                cells[key] = [cell(entry, problem, budget, seed) for seed in seeds]
                print(f"  {key}: {[round(v, 4) for v in cells[key]]}", flush=True)
    table = h.Table(
        f"Pareto search: hypervolume at reference {REFERENCE}, {len(seeds)} seeds "
        "(median [quartiles]; higher is better)",
        ["problem", "budget", "ideal", *ENTRIES, "hyperdeme >= NSGA-II"],
    )
    for problem in problems:
        for budget in budgets:
            medians = {e: h.median(cells[f"{e}|{problem}|{budget}"]) for e in ENTRIES}
            shown = []
            for entry in ENTRIES:
                low, middle, high = h.quartiles(cells[f"{entry}|{problem}|{budget}"])
                shown.append(f"{h.fmt(middle, 4)} [{h.fmt(low, 4)}, {h.fmt(high, 4)}]")
            best_peer = max(medians["optuna-nsga2"], medians["optuna-nsga2-pop20"])
            target = h.verdict(medians["hyperdeme-ga"], best_peer)
            table.add(problem, budget, h.fmt(IDEAL[problem], 4), *shown, target)
    table.notes.append(
        "hyperdeme-ga: GeneticOptimizer(max_evals=budget) with two objectives (NSGA-II "
        "ranking inside its deme, steady-state); optuna-nsga2: NSGAIISampler defaults "
        "(population 50); -pop20: population_size=20. The last column compares hyperdeme's "
        "median with the better of the two. hyperdeme-optuna-nsga2: OptunaOptimizer("
        "sampler=NSGAIISampler(seed=s)) on the engine, to match optuna-nsga2."
    )
    return h.save_benchmark(
        "pareto", quick, [table], reference=REFERENCE, seeds=list(seeds), cells=cells
    )
