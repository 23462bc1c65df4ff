"""Population-based training of a Python objective through its trial handle: weights
(a numpy array in ``trial.checkpoint_dir``) inherited, lineage in the journal, in a
worker thread and in a worker process.

Inheritance is checked from what the function itself found in its directory (the id
of the trial that wrote the weights, returned as a metric), not from hyperdeme's
bookkeeping. The function is at module level: a worker process imports this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperdeme
from hyperdeme import Params, Result, Status, TrialContext, hpo, read_journal

SPACE = Params([["--lr", 0.05, (0.01, 0.3), {"log": True}]])
#: the curvatures of the quadratic each member descends
CURVATURES = np.array([1.0, 3.0, 9.0])

pytestmark = pytest.mark.timeout(120)


def train_slice(params: dict[str, Any], trial: TrialContext) -> dict[str, float]:
    """One slice of training: load the weights left in ``checkpoint_dir`` (or start at
    ones), take 5 gradient steps (each one reported), save; the metrics say which trial
    wrote what was loaded (-1: a fresh start) and how many slices the weights hold."""
    assert trial.checkpoint_dir is not None
    directory = Path(trial.checkpoint_dir)
    if (directory / "weights.npy").exists():
        weights = np.load(directory / "weights.npy")
        writer, slices = (int(v) for v in np.load(directory / "writer.npy"))
    else:
        weights, writer, slices = np.ones(3), -1, 0
    for step in range(1, 6):
        weights = weights - params["--lr"] * CURVATURES * weights
        trial.report(float(np.sum(CURVATURES * weights**2)), step=step)
    np.save(directory / "weights.npy", weights)
    np.save(directory / "writer.npy", np.array([trial.id, slices + 1]))
    loss = float(np.sum(CURVATURES * weights**2))
    return {"FoM": loss, "loaded_from": float(writer), "slices": float(slices + 1)}


def evaluator(tmp_path: Path, runs_in: str, **settings: Any) -> hyperdeme.Evaluator:
    return hyperdeme.Evaluator(
        train_slice,
        run_path=str(tmp_path / "run"),
        function_runs_in=runs_in,  # type: ignore[arg-type]
        num_parallel_evals=2,
        fsync=False,
        **settings,
    )


def assert_inherited(result: Result, run_dir: Path) -> None:
    """Each trial loaded the weights of the trial the journal says it continued, and they
    hold one slice per ancestor in its lineage."""
    for trial in result.trials:
        source = trial.info["checkpoint_from"]
        assert trial.metrics["loaded_from"] == (-1 if source is None else source), trial.id
        assert trial.metrics["slices"] == len(result.lineage(trial.id)), trial.id
    journalled = {t.id: t.info.get("checkpoint_from") for t in read_journal(run_dir)}
    assert journalled == {t.id: t.info["checkpoint_from"] for t in result.trials}


@pytest.mark.parametrize("runs_in", ["thread", "process"])
async def test_pbt_members_continue_their_own_or_an_exploited_members_weights(
    tmp_path: Path, runs_in: str
) -> None:
    opt = hyperdeme.PBTOptimizer(
        evaluator(tmp_path, runs_in), population=4, steps=4, mode="sync", seed=3, name="pbt"
    )
    result = await hyperdeme.optimize(opt, SPACE)
    assert len(result.trials) == 16
    assert all(t.ok and t.steps == 5 for t in result.trials)
    assert_inherited(result, tmp_path / "run" / "pbt")
    exploited = [t for t in result.trials if "exploited_from" in t.info]
    assert exploited  # the bottom member took a top member's weights and hyperparameters
    for trial in exploited:
        assert trial.metrics["loaded_from"] == trial.info["exploited_from"]["trial"]
    assert [len(slices) for slices in result.schedules().values()] == [4] * 4


@pytest.mark.parametrize("runs_in", ["thread", "process"])
async def test_crayai_pbt_children_continue_their_fitter_parents_weights(
    tmp_path: Path, runs_in: str
) -> None:
    opt = hpo.genetic.Optimizer(
        evaluator(tmp_path, runs_in, checkpoint=str(tmp_path / "ckpt")),
        generations=3, num_demes=1, pop_size=4, mutation_rate=0.5, seed=4, name="ga",
        mode="generational",
    )  # fmt: skip
    result = await hyperdeme.optimize(opt, SPACE)
    trials = {t.id: t for t in result.trials}
    assert all(t.status is Status.OK for t in trials.values())
    assert_inherited(result, tmp_path / "run" / "ga")
    continued = 0
    for trial in trials.values():
        parents = trial.info["parents"]
        if parents:
            fitter = min(parents, key=lambda p: (trials[p].fom, p))
            assert trial.metrics["loaded_from"] == fitter
            continued += 1
    assert continued >= 4


EXAMPLE = Path(__file__).parents[2] / "examples" / "pbt" / "optimize_function.py"


@pytest.mark.parametrize(
    "flags", [["--population", "3", "--steps", "3"], ["--process", "--population", "3",
              "--steps", "3"], ["--asha", "--trials", "9"]],
)  # fmt: skip
def test_the_function_example_runs(tmp_path: Path, flags: list[str]) -> None:
    """examples/pbt/optimize_function.py: PBT in threads and processes, ASHA stopping."""
    import os
    import subprocess
    import sys

    run_path = tmp_path / "run"
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), *flags, "--run-path", str(run_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )  # fmt: skip
    assert "best FoM:" in out.stdout
    [experiment] = run_path.iterdir()
    trials = read_journal(experiment)
    if "--asha" in flags:
        assert len(trials) == 9
        assert any(t.status is Status.STOPPED for t in trials)
        assert all(t.steps == 27 for t in trials if t.status is Status.OK)
    else:
        assert len(trials) == 9
        assert all(t.ok for t in trials)
        assert any(t.info["checkpoint_from"] is not None for t in trials)
