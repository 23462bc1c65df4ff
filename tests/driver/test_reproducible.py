"""``reproducible=True``: the same seed and slots give the same journal whatever the timing.

Each run's evaluations sleep random times drawn from a generator seeded apart
from the search (a different seed per run), so the runs finish their trials
in different orders; the journals must still agree record for record (ids,
parameters, parents and other candidate info, results), in the same order.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import anyio
import pytest

import hyperdeme
from hyperdeme import hpo
from hyperdeme._cli._experiment import load_experiment

SLOTS = 4
#: trials each optimizer() runs
BUDGET = {"random": 24, "genetic": 40, "pbt": 24}


def space() -> hyperdeme.Params:
    return hyperdeme.Params([["--x", 0.5, (0.0, 1.0)], ["--y", 2, (0, 20)]])


def fom(params: dict[str, Any]) -> float:
    return (params["--x"] - 0.3) ** 2 + 0.01 * (params["--y"] - 7) ** 2


def uneven(durations: random.Random) -> Any:
    """An objective sleeping 0-20 ms, as ``durations`` says, in call order."""

    async def objective(params: dict[str, Any]) -> float:
        await anyio.sleep(durations.uniform(0.0, 0.02))
        return fom(params)

    return objective


def uneven_training(durations: random.Random) -> Any:
    """A PBT member's slice: continues its checkpoint's history, sleeps a random time."""

    async def train(params: dict[str, Any], checkpoint: str | None) -> float:
        assert checkpoint is not None
        state = anyio.Path(checkpoint, "history.txt")
        history = (await state.read_text()).split() if await state.exists() else []
        history.append(f"{params['--x']:.6f}")
        await state.write_text(" ".join(history))
        await anyio.sleep(durations.uniform(0.0, 0.02))
        return fom(params) / len(history)

    return train


def optimizer(kind: str, evaluator: hyperdeme.Evaluator, **options: Any) -> hyperdeme.Optimizer:
    if kind == "random":
        return hyperdeme.RandomOptimizer(evaluator, num_iters=24, seed=5, **options)
    if kind == "genetic":
        return hyperdeme.GeneticOptimizer(
            evaluator, num_demes=2, pop_size=4, max_evals=40, seed=5, **options
        )
    return hyperdeme.PBTOptimizer(evaluator, population=4, steps=6, seed=5, **options)


def journal(path: Path) -> list[tuple[Any, ...]]:
    """The journal's records without timings: what was asked, in order, and what came back."""
    records = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["type"] == "started":
            records.append(("started", record["id"], record["genes"], record["info"]))
        elif record["type"] == "trial":
            result = (record["id"], record["params"], record["fom"], record["status"])
            records.append(("trial", *result, record["info"]))
    return records


async def run(tmp_path: Path, kind: str, duration_seed: int) -> list[tuple[Any, ...]]:
    durations = random.Random(duration_seed)
    function = uneven_training(durations) if kind == "pbt" else uneven(durations)
    evaluator = hyperdeme.Evaluator(
        function, run_path=str(tmp_path / "run"), num_parallel_evals=SLOTS, fsync=False
    )
    name = f"{kind}-{duration_seed}"
    opt = optimizer(kind, evaluator, name=name, reproducible=True)
    result = await hyperdeme.optimize(opt, space())
    assert result.journal_path is not None
    assert all(trial.ok for trial in result.trials)
    return journal(result.journal_path)


@pytest.mark.parametrize("kind", ["random", "genetic", "pbt"])
async def test_the_same_seed_gives_the_same_journal_whatever_the_timing(
    tmp_path: Path, kind: str
) -> None:
    first = await run(tmp_path, kind, duration_seed=1)
    second = await run(tmp_path, kind, duration_seed=2)
    assert len(first) == 2 * BUDGET[kind]  # a started and a trial record each
    assert first == second


async def test_results_are_told_in_id_order(tmp_path: Path) -> None:
    """The caller, like the strategy, hears of the trials in id order."""
    evaluator = hyperdeme.Evaluator(
        uneven(random.Random(3)), run_path=str(tmp_path), num_parallel_evals=SLOTS, fsync=False
    )
    opt = hyperdeme.GeneticOptimizer(
        evaluator, num_demes=1, pop_size=4, max_evals=20, seed=1, reproducible=True
    )
    result = await hyperdeme.optimize(opt, space())
    assert [trial.id for trial in result.trials] == list(range(1, 21))


def test_reproducible_must_be_a_boolean() -> None:
    with pytest.raises(hyperdeme.ConfigTypeError, match="reproducible") as caught:
        hyperdeme.RandomOptimizer(reproducible="yes")  # type: ignore[arg-type]
    assert caught.value.name == "reproducible"


def test_an_experiment_file_sets_it(tmp_path: Path) -> None:
    path = tmp_path / "experiment.toml"
    path.write_text(
        'command = "true"\n[evaluator]\nsrc_path = "."\n'
        '[optimizer]\ntype = "genetic"\nreproducible = true\n'
        '[params."--x"]\nrange = [0.0, 1.0]\n'
    )
    assert load_experiment(path).optimizer.reproducible is True
    path.write_text(path.read_text().replace("reproducible = true\n", ""))
    assert load_experiment(path).optimizer.reproducible is False


async def test_a_result_held_back_is_journalled_when_the_run_stops(tmp_path: Path) -> None:
    """Trial 2 finishes while trial 1 runs on: held for its turn, which never comes (the
    run is cancelled once every task waits); it is journalled and reported all the same."""
    calls = 0
    second = anyio.Event()

    async def first_hangs(params: dict[str, Any]) -> float:
        nonlocal calls
        calls += 1
        if calls == 1:
            await anyio.sleep_forever()
        second.set()
        return fom(params)

    evaluator = hyperdeme.Evaluator(
        first_hangs, run_path=str(tmp_path), num_parallel_evals=2, fsync=False
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=10, seed=1, reproducible=True, name="s")
    seen: list[hyperdeme.Trial] = []

    async def run() -> None:
        async with hyperdeme.stream(opt, space()) as trials:
            async for trial in trials:
                seen.append(trial)

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await second.wait()  # the run is opened in a worker thread: wait for trial 2
        await anyio.wait_all_tasks_blocked()  # trial 1 hangs, trial 2 is held
        assert calls == 2
        assert seen == []  # nothing told before trial 1
        tg.cancel_scope.cancel()
    journal_path = tmp_path / "s" / "trials.jsonl"
    journalled = hyperdeme.read_journal(journal_path)
    assert [(t.id, t.status) for t in journalled] == [
        (2, hyperdeme.Status.OK),
        (1, hyperdeme.Status.CANCELLED),
    ]


@pytest.mark.parametrize(
    "optimizer",
    [
        hpo.genetic.Optimizer,
        hpo.random.Optimizer,
        hpo.grid.Optimizer,
        hpo.PBTOptimizer,
    ],
)
def test_crayai_optimizers_take_it(optimizer: type[hyperdeme.Optimizer]) -> None:
    assert optimizer(reproducible=True).reproducible is True
    assert optimizer().reproducible is False
