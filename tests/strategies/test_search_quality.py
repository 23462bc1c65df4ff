"""End-to-end search quality and slot usage through the public API (callable evaluators)."""

from __future__ import annotations

import math
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio

import hyperdeme

DIM = 10
OPTIMUM = 2.3  # off the centre of the box [-5.12, 5.12]: starting at 0 does not win


def shifted_rastrigin(params: dict[str, Any]) -> float:
    xs = [params[f"--x{i}"] - OPTIMUM for i in range(DIM)]
    return 10 * DIM + sum(x * x - 10 * math.cos(2 * math.pi * x) for x in xs)


def rastrigin_space() -> hyperdeme.Params:
    # No defaults: the baseline is a random point, not the centre.
    return hyperdeme.Params([[f"--x{i}", (-5.12, 5.12)] for i in range(DIM)])


async def test_genetic_beats_random_on_shifted_rastrigin(tmp_path: Path) -> None:
    budget = 1200
    genetic, random_ = [], []
    for seed in (1, 2, 3):
        evaluator = hyperdeme.Evaluator(
            shifted_rastrigin, run_path=str(tmp_path / f"s{seed}"), fsync=False
        )
        ga = hyperdeme.GeneticOptimizer(
            evaluator,
            generations=budget // 40,
            num_demes=2,
            pop_size=20,
            mutation_rate=0.2,
            migration_interval=3,
            seed=seed,
        )
        rs = hyperdeme.RandomOptimizer(evaluator, num_iters=budget, seed=seed)
        ga_result = await hyperdeme.optimize(ga, rastrigin_space())
        rs_result = await hyperdeme.optimize(rs, rastrigin_space())
        assert len(ga_result.trials) == len(rs_result.trials) == budget
        genetic.append(ga_result.best_fom)
        random_.append(rs_result.best_fom)
    assert statistics.median(genetic) < statistics.median(random_)


async def test_steady_mode_keeps_every_slot_busy(tmp_path: Path) -> None:
    """Heterogeneous durations: no slot waits for another slot's evaluation."""
    slots = 4
    busy = 0.0
    rng = random.Random(5)

    async def uneven(params: dict[str, Any]) -> float:
        nonlocal busy
        start = time.monotonic()
        await anyio.sleep(rng.choice([0.002, 0.01, 0.04]))
        busy += time.monotonic() - start
        return float(params["--x0"])

    evaluator = hyperdeme.Evaluator(
        uneven, run_path=str(tmp_path), num_parallel_evals=slots, fsync=False
    )
    opt = hyperdeme.GeneticOptimizer(evaluator, generations=4, num_demes=2, pop_size=8, seed=1)
    result = await hyperdeme.optimize(opt, rastrigin_space())
    assert len(result.trials) == 64
    utilization = busy / (slots * result.elapsed)
    assert utilization > 0.6, utilization


def test_crayai_script_beats_its_defaults(tmp_path: Path) -> None:
    """examples/sin_poly/optimize.py is a crayai.hpo script with only its import changed."""
    script = Path(__file__).parents[2] / "examples" / "sin_poly" / "optimize.py"
    completed = subprocess.run(
        [
            sys.executable,
            str(script),
            "--generations",
            "3",
            "--pop-size",
            "6",
            "--run-path",
            str(tmp_path / "run"),
            "--seed",
            "4",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    trials = hyperdeme.read_journal(tmp_path / "run" / "sin_poly")
    assert len(trials) == 3 * 2 * 6
    baseline = [t for t in trials if all(v == 0.0 for v in t.params.values())]
    assert baseline, "the defaults (all zero) are evaluated as the baseline"
    best = min(t.fom for t in trials)
    assert best < baseline[0].fom
    assert f"best FoM: {best}" in completed.stdout
