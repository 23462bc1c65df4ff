"""The optimizers of the quality benchmark: one registry, hyperdeme and its peers alike.

An :class:`Entry` runs one cell: ``run(problem, budget, seed)`` returns the FoM
of each evaluation in the order they were made, exactly ``budget`` of them.
``missing()`` says why an entry cannot run here ("" when it can): entries for
hyperdeme features that do not apply to a problem (PBT needs a program that
resumes checkpoints) are listed and reported "n/a" with the reason.

Early-stopping entries (``+asha``, Optuna's ``+sha``/``+hyperband`` pruners)
apply to learning-curve problems only. Their budget is in full-evaluation
equivalents: ``budget * problem.epochs`` epochs, however many trials that
takes; their FoMs are those of the trials that ran to their end (a pruned or
stopped trial's FoM is that of a shorter training, and neither Optuna's
``best_value`` nor hyperdeme's ``best_fom`` counts it). hyperdeme's run
through the engine with the streaming launcher of :mod:`._streaming`, one
slot, so every cell is deterministic.

``hyperdeme-ga-budget`` is ``GeneticOptimizer(max_evals=budget)``: the GA
sized for the budget, stopping by itself. The hand-sized GA entries have their
generations sized to cover the budget, and every hyperdeme entry leaves
``hyperdeme.stream`` after ``budget`` finished trials, which stops the run;
only those trials count. Every run is in-process (``async def`` objective,
one slot, journal without fsync) and seeded; peers are never imported by the
library, only here, and only when their entry runs.
"""

from __future__ import annotations

import math
import random
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import anyio

import hyperdeme

from ._problems import Problem

Run = Callable[[Problem, int, int], list[float]]


@dataclass(frozen=True)
class Entry:
    name: str
    family: str  # the package it comes from: its version keys the result cache
    run: Run
    missing: Callable[[], str] = lambda: ""
    applies: Callable[[Problem], bool] = lambda problem: True
    note: str = ""

    def version(self) -> str:
        try:
            return metadata.version(self.family)
        except metadata.PackageNotFoundError:
            return ""


# ----------------------------------------------------------------------------- hyperdeme
MakeOptimizer = Callable[[hyperdeme.Evaluator, int, int], Any]


def _hyperdeme(make: MakeOptimizer) -> Run:
    def run(problem: Problem, budget: int, seed: int) -> list[float]:
        return anyio.run(_capped, make, problem, budget, seed)

    return run


async def _capped(make: MakeOptimizer, problem: Problem, budget: int, seed: int) -> list[float]:
    objective = problem.objective

    async def evaluate(params: dict[str, Any]) -> float:  # on the loop: no thread hop
        return objective(params)

    foms: list[float] = []
    with tempfile.TemporaryDirectory(prefix="hd-quality-") as run_path:
        evaluator = hyperdeme.Evaluator(evaluate, run_path=run_path, fsync=False)
        optimizer = make(evaluator, budget, seed)
        async with hyperdeme.stream(optimizer, problem.space.to_hyperdeme()) as trials:
            async for trial in trials:
                foms.append(trial.fom)
                if len(foms) >= budget:
                    break  # leaving the block stops the run
    return foms


def _ga(demes: int, pop: int, **options: Any) -> MakeOptimizer:
    def make(evaluator: hyperdeme.Evaluator, budget: int, seed: int) -> Any:
        if options.get("mode") == "generational":  # each generation after the first: pop - 1
            generations = 1 + max(0, math.ceil((budget / demes - pop) / (pop - 1)))
        else:
            generations = max(1, math.ceil(budget / (demes * pop)))
        return hyperdeme.GeneticOptimizer(
            evaluator,
            generations=generations,
            num_demes=demes,
            pop_size=pop,
            seed=seed,
            **options,
        )

    return make


def _crayai_defaults(evaluator: hyperdeme.Evaluator, budget: int, seed: int) -> Any:
    # 4 demes x 64, 1000 generations = 256,000 evaluations: the stream cap ends it
    return hyperdeme.GeneticOptimizer(evaluator, seed=seed)


def _ga_for_budget(evaluator: hyperdeme.Evaluator, budget: int, seed: int) -> Any:
    return hyperdeme.GeneticOptimizer(evaluator, max_evals=budget, seed=seed)


def _random(evaluator: hyperdeme.Evaluator, budget: int, seed: int) -> Any:
    return hyperdeme.RandomOptimizer(evaluator, num_iters=budget, seed=seed)


def _cmaes(evaluator: hyperdeme.Evaluator, budget: int, seed: int) -> Any:
    return hyperdeme.CMAESOptimizer(evaluator, max_evals=budget, seed=seed)


def _optuna_strategy(sampler: str) -> MakeOptimizer:
    def make(evaluator: hyperdeme.Evaluator, budget: int, seed: int) -> Any:
        import optuna

        samplers = {"tpe": optuna.samplers.TPESampler, "cmaes": optuna.samplers.CmaEsSampler}
        chosen = samplers[sampler](seed=seed)
        return hyperdeme.OptunaOptimizer(evaluator, sampler=chosen, max_evals=budget, seed=seed)

    return make


def _not_wired(feature: str) -> Run:
    def run(problem: Problem, budget: int, seed: int) -> list[float]:
        raise NotImplementedError(
            f"hyperdeme.{feature} exists now: write this entry's run function in "
            "benchmarks/_peers.py (see the other hyperdeme entries)."
        )

    return run


def _lacks(owner: Any, name: str) -> Callable[[], str]:
    label = "hyperdeme." + (f"{owner.__name__}.{name}" if owner is not hyperdeme else name)
    return lambda: "" if hasattr(owner, name) else f"{label} does not exist yet"


def _has_epochs(problem: Problem) -> bool:
    return problem.epochs > 0


def _early_stopped(make: MakeOptimizer, rule: hyperdeme.EarlyStopping) -> Run:
    def run(problem: Problem, budget: int, seed: int) -> list[float]:
        from ._streaming import run_curves

        epochs = budget * problem.epochs
        return run_curves(
            problem, make, epochs, seed, early_stopping=rule, epoch_budget=epochs
        ).foms

    return run


def _optuna_pruned(sampler: str, pruner: str, min_steps: int = 1) -> Run:
    def run(problem: Problem, budget: int, seed: int) -> list[float]:
        from ._streaming import run_optuna_curves

        epochs = budget * problem.epochs
        return run_optuna_curves(
            problem, sampler, pruner, epochs, seed, min_steps=min_steps, epoch_budget=epochs
        ).foms

    return run


#: issue #13's setting, and a grace period of 5 of 27 epochs (see benchmarks/README.md)
_ASHA = hyperdeme.ASHA(max_steps=27, reduction_factor=3, min_steps=1)
_ASHA_MIN5 = hyperdeme.ASHA(max_steps=27, reduction_factor=3, min_steps=5)


# ----------------------------------------------------------------------------- Optuna
def _optuna(sampler: str) -> Run:
    def run(problem: Problem, budget: int, seed: int) -> list[float]:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        samplers = {"tpe": optuna.samplers.TPESampler, "cmaes": optuna.samplers.CmaEsSampler}
        foms: list[float] = []

        def objective(trial: Any) -> float:
            foms.append(problem.objective(problem.space.suggest(trial)))
            return foms[-1]

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # CMA-ES: "falls back to independent sampling"
            study = optuna.create_study(sampler=samplers[sampler](seed=seed))
            study.optimize(objective, n_trials=budget)
        return foms

    return run


# ----------------------------------------------------------------------------- Nevergrad
def _nevergrad(name: str) -> Run:
    def run(problem: Problem, budget: int, seed: int) -> list[float]:
        import nevergrad as ng
        import numpy as np

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.random.seed(seed)  # some Nevergrad optimizers still draw from the global state
            parametrization = problem.space.to_nevergrad()
            parametrization.random_state.seed(seed)
            optimizer = ng.optimizers.registry[name](
                parametrization=parametrization, budget=budget, num_workers=1
            )
            foms = []
            for _ in range(budget):
                candidate = optimizer.ask()
                foms.append(problem.objective(problem.space.from_nevergrad(candidate.value)))
                optimizer.tell(candidate, foms[-1])
        return foms

    return run


# ----------------------------------------------------------------------------- DEAP
def _deap_easimple(problem: Problem, budget: int, seed: int) -> list[float]:
    """``algorithms.eaSimple`` step by step (select, varAnd, evaluate the changed), stopped
    after exactly ``budget`` evaluations: population 20, blend crossover (alpha 0.5, cxpb
    0.5), Gaussian mutation (sigma 0.1 of each range, indpb 0.1, mutpb 0.2), tournament 3,
    on the [0, 1]^d encoding of ``_spaces``."""
    from deap import algorithms, base, creator, tools

    if not hasattr(creator, "BenchFitness"):
        creator.create("BenchFitness", base.Fitness, weights=(-1.0,))
        creator.create("BenchIndividual", list, fitness=creator.BenchFitness)
    random.seed(seed)  # DEAP draws from the global random module
    dims = len(problem.space.dims)
    toolbox = base.Toolbox()
    toolbox.register("mate", tools.cxBlend, alpha=0.5)
    toolbox.register("mutate", tools.mutGaussian, mu=0.0, sigma=0.1, indpb=0.1)
    toolbox.register("select", tools.selTournament, tournsize=3)
    foms: list[float] = []

    def evaluate(individual: Any) -> None:
        individual[:] = [min(1.0, max(0.0, gene)) for gene in individual]
        foms.append(problem.objective(problem.space.decode(individual)))
        individual.fitness.values = (foms[-1],)

    population = [creator.BenchIndividual(random.random() for _ in range(dims)) for _ in range(20)]
    while True:
        for individual in population:
            if not individual.fitness.valid:
                if len(foms) == budget:
                    return foms
                evaluate(individual)
        offspring = toolbox.select(population, len(population))
        population = algorithms.varAnd(offspring, toolbox, cxpb=0.5, mutpb=0.2)


# ----------------------------------------------------------------------------- the registry
ENTRIES: dict[str, Entry] = {
    e.name: e
    for e in (
        Entry("hyperdeme-random", "hyperdeme", _hyperdeme(_random)),
        Entry(
            "hyperdeme-ga-2x20",
            "hyperdeme",
            _hyperdeme(_ga(2, 20, mutation_rate=0.3)),
            note="2 demes x 20, mutation_rate 0.3, steady (issue #13's hand-picked setting)",
        ),
        Entry(
            "hyperdeme-ga-2x20-generational",
            "hyperdeme",
            _hyperdeme(_ga(2, 20, mutation_rate=0.3, mode="generational")),
            note="as 2x20, crayai's synchronous generations",
        ),
        Entry(
            "hyperdeme-ga-crayai",
            "hyperdeme",
            _hyperdeme(_crayai_defaults),
            note="GeneticOptimizer() defaults: 4 demes x 64, mutation_rate 0.05",
        ),
        Entry(
            "hyperdeme-ga-budget",
            "hyperdeme",
            _hyperdeme(_ga_for_budget),
            note="GeneticOptimizer(max_evals=budget): demes, pop_size, generations for the budget",
        ),
        Entry(
            "hyperdeme-cmaes",
            "hyperdeme",
            _hyperdeme(_cmaes),
            note="CMAESOptimizer(max_evals=budget): sigma0 1/6 of each range, IPOP restarts",
        ),
        Entry(
            "hyperdeme-optuna-tpe",
            "hyperdeme",
            _hyperdeme(_optuna_strategy("tpe")),
            note="OptunaOptimizer(sampler=TPESampler(seed=seed)) on hyperdeme's engine",
        ),
        Entry(
            "hyperdeme-pbt",
            "hyperdeme",
            _not_wired("PBTOptimizer"),
            missing=lambda: (
                "hyperdeme.PBTOptimizer resumes checkpoints; the learning-curve problem is a "
                "closed form of fixed hyperparameters, with nothing to resume yet"
            ),
            applies=_has_epochs,
        ),
        Entry(
            "hyperdeme-random+asha",
            "hyperdeme",
            _early_stopped(_random, _ASHA),
            applies=_has_epochs,
            note="ASHA(max_steps=27, reduction_factor=3, min_steps=1); budget in "
            "full-evaluation equivalents (27 epochs each)",
        ),
        Entry(
            "hyperdeme-random+asha-min5",
            "hyperdeme",
            _early_stopped(_random, _ASHA_MIN5),
            applies=_has_epochs,
            note="ASHA(max_steps=27, reduction_factor=3, min_steps=5)",
        ),
        Entry(
            "hyperdeme-ga+asha",
            "hyperdeme",
            _early_stopped(_ga(2, 20, mutation_rate=0.3), _ASHA_MIN5),
            applies=_has_epochs,
            note="2 demes x 20, mutation_rate 0.3, ASHA min_steps=5",
        ),
        Entry("optuna-tpe", "optuna", _optuna("tpe")),
        Entry("optuna-cmaes", "optuna", _optuna("cmaes")),
        Entry(
            "optuna-random+sha",
            "optuna",
            _optuna_pruned("random", "sha"),
            applies=_has_epochs,
            note="RandomSampler, SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)",
        ),
        Entry(
            "optuna-tpe+hyperband",
            "optuna",
            _optuna_pruned("tpe", "hyperband"),
            applies=_has_epochs,
            note="TPESampler, HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3)",
        ),
        Entry(
            "optuna-tpe+hyperband-min5",
            "optuna",
            _optuna_pruned("tpe", "hyperband", min_steps=5),
            applies=_has_epochs,
            note="as above, min_resource=5",
        ),
        Entry("deap-easimple", "deap", _deap_easimple, note="pop 20, cxBlend, mutGaussian"),
        Entry("nevergrad-ngopt", "nevergrad", _nevergrad("NGOpt")),
        Entry("nevergrad-cma", "nevergrad", _nevergrad("CMA")),
        Entry("nevergrad-twopointsde", "nevergrad", _nevergrad("TwoPointsDE")),
    )
}
