"""Slot utilization with log-normal evaluation times (issue #11: steady genetic >= 95 %).

Each evaluation is an ``async def`` that sleeps a log-normal time (median
50 ms, sigma 1; drawn from a seeded generator in call order) on 16 slots.
Variants, interleaved: genetic steady-state (4 demes x 16), genetic
generational (crayai's barrier per generation, for contrast) and random, and
steady genetic and random again with ``reproducible=True`` (results told in
trial-id order: a slot waits while an earlier trial runs), whose cost is
the second table's same-run ratios.

Three measures of "busy":

- ``trials``: the sum of ``Trial.ended - Trial.started`` (wall clock, what the
  engine reports) over ``slots * makespan``;
- ``objective``: the same with the time measured inside the objective;
- ``steady``: ``trials`` restricted to the window from the first start to the
  last start, i.e. without the final drain, when slots must fall idle because
  nothing is left to start. The target applies to this one. ``drain`` is
  the time from the last start to the end, ``longest`` the longest evaluation.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

import hyperdeme

from . import _harness as h

SPACE = hyperdeme.Params([[f"--x{i}", (-5.0, 5.0)] for i in range(4)])
VARIANTS = (
    "genetic-steady",
    "genetic-generational",
    "random",
    "genetic-steady-reproducible",
    "random-reproducible",
)
#: a variant's suffix for ``reproducible=True`` (results told in trial-id order)
REPRODUCIBLE = "-reproducible"
SLOTS, DEMES, POP = 16, 4, 16


async def _run(variant: str, evaluations: int, root: Path) -> dict[str, float]:
    reproducible = variant.endswith(REPRODUCIBLE)
    variant = variant.removesuffix(REPRODUCIBLE)
    rng = random.Random(1)
    in_objective = 0.0

    async def uneven(params: dict[str, Any]) -> float:
        nonlocal in_objective
        start = time.perf_counter()
        await anyio.sleep(rng.lognormvariate(0.0, 1.0) * 0.05)  # median 50 ms, sigma 1
        in_objective += time.perf_counter() - start
        return sum(v * v for v in params.values())

    evaluator = hyperdeme.Evaluator(
        uneven, run_path=str(root / f"r{time.monotonic_ns()}"), num_parallel_evals=SLOTS
    )
    if variant == "random":
        opt: hyperdeme.Optimizer = hyperdeme.RandomOptimizer(
            evaluator, num_iters=evaluations, seed=1, reproducible=reproducible
        )
    else:
        mode = variant.split("-")[1]
        per_generation = DEMES * POP if mode == "steady" else DEMES * (POP - 1)
        opt = hyperdeme.GeneticOptimizer(
            evaluator,
            generations=max(1, evaluations // per_generation),
            num_demes=DEMES,
            pop_size=POP,
            mode=mode,
            seed=1,
            reproducible=reproducible,
        )
    begin = time.time()
    result = await hyperdeme.optimize(opt, SPACE)
    end = time.time()
    trials = result.trials
    capacity = SLOTS * (end - begin)
    first, last_start = min(t.started for t in trials), max(t.started for t in trials)
    window = sum(max(0.0, min(t.ended, last_start) - max(t.started, first)) for t in trials)
    return {
        "evaluations": len(trials),
        "makespan": end - begin,
        "trials": sum(t.ended - t.started for t in trials) / capacity * 100,
        "objective": in_objective / capacity * 100,
        "steady": window / (SLOTS * (last_start - first)) * 100 if last_start > first else 0.0,
        "drain": end - last_start,
        "longest": max(t.ended - t.started for t in trials),
    }


def main(quick: bool, args: Any) -> list[h.Table]:
    evaluations = 400 if quick else 2000
    repeats = args.repeats or (2 if quick else 3)
    table = h.Table(
        f"slot utilization, log-normal times (median 50 ms, sigma 1), {SLOTS} slots, "
        f"~{evaluations} evaluations, % busy (median of {repeats}, interleaved)",
        [
            "variant",
            "evaluations",
            "makespan s",
            "drain s",
            "longest s",
            "trials %",
            "objective %",
            "steady %",
            ">= 95 %",
        ],
    )
    measured: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    with h.scratch_dir("hd-utilization-") as root:

        def runner(variant: str) -> Callable[[], float]:
            def measure() -> float:
                measured[variant].append(anyio.run(_run, variant, evaluations, root))
                return measured[variant][-1]["steady"]

            return measure

        print(f"[utilization] {len(VARIANTS) * repeats} runs ...", flush=True)
        h.interleave({v: runner(v) for v in VARIANTS}, repeats)
    summary = {}
    for variant in VARIANTS:
        med = {k: h.median([m[k] for m in measured[variant]]) for k in measured[variant][0]}
        summary[variant] = med
        target = h.verdict(med["steady"], 95.0) if variant == "genetic-steady" else ""
        table.add(
            variant,
            med["evaluations"],
            med["makespan"],
            med["drain"],
            med["longest"],
            med["trials"],
            med["objective"],
            med["steady"],
            target,
        )
    cost = h.Table(
        "reproducible=True against the default, same run: steady % and makespan",
        ["strategy", "steady % ratio", "makespan ratio"],
    )
    for base in ("genetic-steady", "random"):
        default, ordered = summary[base], summary[base + REPRODUCIBLE]
        cost.add(
            base,
            ordered["steady"] / default["steady"],
            ordered["makespan"] / default["makespan"],
        )
    return h.save_benchmark(
        "utilization",
        quick,
        [table, cost],
        settings={
            "evaluations": evaluations,
            "slots": SLOTS,
            "demes": DEMES,
            "pop_size": POP,
            "repeats": repeats,
        },
        results={"runs": measured, "median": summary},
    )
