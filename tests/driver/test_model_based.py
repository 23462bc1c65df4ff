"""CMAESOptimizer and OptunaOptimizer on the engine: shell-command trials on 4 slots with
ASHA, journalled; the experiment file's ``type = "cmaes"`` and ``type = "optuna"``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme import Status
from hyperdeme._cli._experiment import load_experiment

#: a training program: 9 epochs, its loss after each, best at x = 0.3
PROGRAM = (
    "import sys\n"
    "x = float(sys.argv[1].split('=')[1])\n"
    "for epoch in range(1, 10): print('FoM:', (x - 0.3) ** 2 + 1 / epoch, flush=True)"
)
SPACE = hyperdeme.Params([["--x", (0.0, 1.0)], ["--y", (0.0, 1.0)]])


def optimizer(kind: str, tmp_path: Path) -> hyperdeme.Optimizer:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    evaluator = hyperdeme.Evaluator(
        f"{sys.executable} -c {shlex.quote(PROGRAM)}",
        run_path=str(tmp_path / "run"),
        src_path=str(source),
        num_parallel_evals=4,
        early_stopping=hyperdeme.ASHA(max_steps=9, reduction_factor=3, min_steps=1),
    )
    if kind == "cmaes":
        return hyperdeme.CMAESOptimizer(evaluator, max_evals=16, popsize=4, seed=3, name="e")
    return hyperdeme.OptunaOptimizer(evaluator, sampler="tpe", max_evals=16, seed=3, name="e")


@pytest.mark.parametrize("kind", ["cmaes", "optuna"])
async def test_shell_trials_on_four_slots_with_asha_are_all_journalled(
    tmp_path: Path, kind: str
) -> None:
    result = await hyperdeme.optimize(optimizer(kind, tmp_path), SPACE)
    journalled = hyperdeme.read_journal(result.journal_path or "")
    assert [(t.id, t.status, t.fom) for t in journalled] == [
        (t.id, t.status, t.fom) for t in result.trials
    ]
    assert len(result.trials) == 16
    statuses = {t.status for t in result.trials}
    assert Status.STOPPED in statuses  # ASHA stopped some: told as pruned / ranked after
    assert statuses <= {Status.OK, Status.STOPPED}
    assert result.best_fom == pytest.approx(min(t.fom for t in result.trials if t.ok))


def experiment(tmp_path: Path, optimizer_table: str) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(
        f"""
command = "{sys.executable} train.py"
[evaluator]
run_path = "run"
src_path = "."
[optimizer]
{optimizer_table}
[params."--lr"]
range = [0.001, 1.0]
log = true
[params."--layers"]
values = [1, 2, 3]
"""
    )
    return path


def test_an_experiment_file_names_cmaes_with_its_settings(tmp_path: Path) -> None:
    path = experiment(tmp_path, 'type = "cmaes"\nmax_evals = 40\nrestarts = "bipop"\nseed = 4')
    loaded = load_experiment(path, max_evals=60).optimizer
    assert isinstance(loaded, hyperdeme.CMAESOptimizer)
    assert (loaded.config.max_evals, loaded.config.restarts) == (60, "bipop")


def test_an_experiment_file_names_an_optuna_sampler(tmp_path: Path) -> None:
    path = experiment(tmp_path, 'type = "optuna"\nsampler = "qmc"\nmax_evals = 9')
    loaded = load_experiment(path).optimizer
    assert isinstance(loaded, hyperdeme.OptunaOptimizer)
    assert (loaded.sampler, loaded.max_evals) == ("qmc", 9)
