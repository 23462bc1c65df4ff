"""OptunaOptimizer with several objectives on the engine: a ZDT1-like Pareto search, a
maximised objective told negated, an exact resume, ASHA's stopped trials, the TOML path."""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path
from typing import Any

import optuna
import pytest

import hyperdeme
from hyperdeme import Status
from hyperdeme._cli._experiment import load_experiment

FLAGS = [f"--x{i}" for i in range(4)]
SPACE = hyperdeme.Params([[flag, (0.0, 1.0)] for flag in FLAGS])
OBJECTIVES = {"f1": "minimize", "f2": "minimize"}
#: what the study's sampler heard after each trial: (directions, state, values)
TOLD: list[tuple[int, str, list[float] | None]] = []
evaluated: list[dict[str, Any]] = []


class RecordingNSGAII(optuna.samplers.NSGAIISampler):
    """NSGA-II that notes what it is told (copied by the strategy: the list is global)."""

    def after_trial(
        self,
        study: optuna.Study,
        trial: optuna.trial.FrozenTrial,
        state: optuna.trial.TrialState,
        values: Any,
    ) -> None:
        TOLD.append((len(study.directions), state.name, None if values is None else list(values)))
        super().after_trial(study, trial, state, values)


def zdt1(params: dict[str, Any]) -> dict[str, float]:
    evaluated.append(dict(params))
    x = [params[flag] for flag in FLAGS]
    g = 1 + 9 * sum(x[1:]) / (len(x) - 1)
    return {"f1": x[0], "f2": g * (1 - math.sqrt(x[0] / g))}


def told(heard: list[tuple[int, str, list[float] | None]]) -> set[tuple[float, ...]]:
    """Every list of values the sampler heard."""
    return {tuple(values) for _, _, values in heard if values is not None}


def make(
    tmp_path: Path, objectives: dict[str, Any] = OBJECTIVES, max_evals: int = 30
) -> hyperdeme.OptunaOptimizer:
    evaluator = hyperdeme.Evaluator(zdt1, run_path=str(tmp_path / "run"), objectives=objectives)
    sampler = RecordingNSGAII(seed=5, population_size=6)
    return hyperdeme.OptunaOptimizer(evaluator, sampler=sampler, max_evals=max_evals, name="e")


async def test_a_two_objective_search_runs_and_finds_a_front(tmp_path: Path) -> None:
    TOLD.clear()
    result = await hyperdeme.optimize(make(tmp_path), SPACE)
    assert len(result.trials) == 30
    assert all(t.status is Status.OK for t in result.trials)
    assert result.pareto_front
    # the study had two directions and heard both objectives of every trial (a child
    # NSGA-II suggests again is told its earlier result: a few more tells than trials)
    assert {(n, state) for n, state, _ in TOLD} == {(2, "COMPLETE")}
    assert told(TOLD) == {(t.objectives["f1"], t.objectives["f2"]) for t in result.trials}


async def test_a_maximised_objective_is_told_negated(tmp_path: Path) -> None:
    TOLD.clear()
    flipped = {"f1": "minimize", "f2": "maximize"}
    result = await hyperdeme.optimize(make(tmp_path, flipped, max_evals=8), SPACE)
    assert told(TOLD) == {(t.objectives["f1"], -t.objectives["f2"]) for t in result.trials}
    assert all(t.objectives["f2"] > 0 for t in result.trials)  # the journal keeps the user's


async def test_a_stopped_run_resumes_to_exactly_the_uninterrupted_run(tmp_path: Path) -> None:
    """A maximised objective too: the replayed study must hear the negated scores again."""
    flipped = {"f1": "minimize", "f2": "maximize"}
    evaluated.clear()
    whole = await hyperdeme.optimize(make(tmp_path / "whole", flipped), SPACE)
    expected = [(t.id, t.params, t.objectives) for t in whole.trials]
    evaluated.clear()
    seen = []
    async with hyperdeme.stream(make(tmp_path / "parts", flipped), SPACE) as trials:
        async for trial in trials:
            seen.append(trial)
            if len(seen) == 11:
                break
    first_part = len(evaluated)
    resumed = await hyperdeme.optimize(make(tmp_path / "parts", flipped), SPACE, resume=True)
    assert [(t.id, t.params, t.objectives) for t in resumed.trials] == expected
    assert len(evaluated) - first_part == 30 - 11  # nothing finished ran again
    assert [t.id for t in resumed.pareto_front] == [t.id for t in whole.pareto_front]


async def test_a_changed_set_of_objectives_is_refused_on_resume(tmp_path: Path) -> None:
    await hyperdeme.optimize(make(tmp_path, max_evals=4), SPACE)
    renamed = make(tmp_path, {"f1": "minimize", "g": "minimize"}, max_evals=4)
    with pytest.raises(hyperdeme.ConfigError, match=r"strategy\.settings\.objectives"):
        await hyperdeme.optimize(renamed, SPACE, resume=True)


#: a training program: 9 epochs, both objectives printed after each
PROGRAM = (
    "import sys\n"
    "x = float(sys.argv[1].split('=')[1])\n"
    "for epoch in range(1, 10):\n"
    "    print('loss:', (x - 0.3) ** 2 + 1 / epoch, flush=True)\n"
    "    print('size:', x + 1 / epoch, flush=True)\n"
)


async def test_asha_stops_trials_of_a_two_objective_study_without_a_crash(
    tmp_path: Path,
) -> None:
    TOLD.clear()
    source = tmp_path / "src"
    source.mkdir()
    evaluator = hyperdeme.Evaluator(
        f"{sys.executable} -c {shlex.quote(PROGRAM)}",
        run_path=str(tmp_path / "run"),
        src_path=str(source),
        num_parallel_evals=4,
        objectives={"loss": "minimize", "size": "minimize"},
        early_stopping=hyperdeme.ASHA(max_steps=9, reduction_factor=3, min_steps=1),
    )
    sampler = RecordingNSGAII(seed=3, population_size=4)
    optimizer = hyperdeme.OptunaOptimizer(evaluator, sampler=sampler, max_evals=16, name="e")
    result = await hyperdeme.optimize(optimizer, hyperdeme.Params([["--x", (0.0, 1.0)]]))
    assert len(result.trials) == 16
    statuses = {t.status for t in result.trials}
    assert Status.STOPPED in statuses
    assert statuses <= {Status.OK, Status.STOPPED}
    stopped = sum(t.status is Status.STOPPED for t in result.trials)
    assert sorted(state for _, state, _ in TOLD) == sorted(
        ["PRUNED"] * stopped + ["COMPLETE"] * (16 - stopped)
    )
    assert result.pareto_front


def test_an_experiment_file_gives_the_study_its_objectives(tmp_path: Path) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(
        f"""
command = "{sys.executable} train.py"
[evaluator]
run_path = "run"
src_path = "."
[evaluator.objectives]
val_loss = "minimize"
accuracy = "maximize"
[optimizer]
type = "optuna"
sampler = "nsga2"
max_evals = 9
[params."--lr"]
range = [0.001, 1.0]
"""
    )
    loaded = load_experiment(path)
    assert isinstance(loaded.optimizer, hyperdeme.OptunaOptimizer)
    strategy = loaded.optimizer.make_strategy(loaded.params, seed=1)
    assert strategy.describe()["settings"]["objectives"] == ("val_loss", "accuracy")
    study = strategy.study  # type: ignore[attr-defined]
    assert study.directions == [optuna.study.StudyDirection.MINIMIZE] * 2
