"""End-to-end search quality and slot usage through the public API (callable evaluators)."""

from __future__ import annotations

import math
import random
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel

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


class VirtualClock:
    """Evaluations that take virtual time: each waits until the clock reaches its end;
    the clock moves to the next end only once every task is blocked (nothing more can
    start), so the measure is the schedule's, not the machine's load."""

    def __init__(self) -> None:
        self.now = 0
        self.busy = 0
        self._waiting: list[tuple[int, anyio.Event]] = []

    async def take(self, ticks: int) -> None:
        done = anyio.Event()
        self._waiting.append((self.now + ticks, done))
        self.busy += ticks
        await done.wait()

    async def run(self) -> None:
        while True:
            await anyio.wait_all_tasks_blocked()
            if not self._waiting:
                await anyio.lowlevel.checkpoint()
                continue
            self.now = min(end for end, _ in self._waiting)
            for _, done in [w for w in self._waiting if w[0] == self.now]:
                done.set()
            self._waiting = [w for w in self._waiting if w[0] != self.now]


async def slot_use(tmp_path: Path, mode: str, slots: int) -> float:
    """Busy slot time over slots x makespan, in virtual time, of a 64-evaluation
    genetic search (58 in generational mode) whose evaluations take 2, 10 or 40 ticks (seeded)."""
    clock = VirtualClock()
    rng = random.Random(5)

    async def uneven(params: dict[str, Any]) -> float:
        await clock.take(rng.choice([2, 10, 40]))
        return float(params["--x0"])

    evaluator = hyperdeme.Evaluator(
        uneven, run_path=str(tmp_path / mode), num_parallel_evals=slots, fsync=False
    )
    opt = hyperdeme.GeneticOptimizer(
        evaluator, generations=4, num_demes=2, pop_size=8, seed=1, mode=mode
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(clock.run)
        result = await hyperdeme.optimize(opt, rastrigin_space())
        tg.cancel_scope.cancel()
    assert len(result.trials) == {"steady": 64, "generational": 58}[mode]  # the elite stays
    return clock.busy / (slots * clock.now)


async def test_steady_mode_keeps_every_slot_busy(tmp_path: Path) -> None:
    """Heterogeneous durations: no slot waits for another slot's evaluation. In virtual
    time (no wall clock) and against generational mode in the same run, which waits
    for each generation's slowest evaluation."""
    steady = await slot_use(tmp_path, "steady", 4)
    generational = await slot_use(tmp_path, "generational", 4)
    assert steady > generational + 0.1, (steady, generational)
    assert steady > 0.9, steady


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
