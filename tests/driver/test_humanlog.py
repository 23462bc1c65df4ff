"""crayai's ``log_fn``: what each line says, and which per-deme file it goes to."""

from __future__ import annotations

import json
import math
from pathlib import Path

import hyperdeme
from hyperdeme import Status, Trial
from hyperdeme._driver._humanlog import HumanLog


def expected(trial: Trial) -> str:
    """A log line, spelled out independently of the code under test."""
    line = (
        f"trial {trial.id} {trial.status.value} fom={trial.fom:.6g} attempts={trial.attempts} "
        f"duration={trial.duration:.2f}s params={json.dumps(trial.params)}"
    )
    if "member" in trial.info:
        source = trial.info.get("exploited_from")
        taken = f" from member {source['member']}" if source else ""
        line = f"member {trial.info['member']} step {trial.info['step']}{taken} {line}"
    if "deme" in trial.info:
        line = f"deme {trial.info['deme']} gen {trial.info['generation']} {line}"
    return line


def test_each_line_says_what_the_trial_did(tmp_path: Path) -> None:
    trials = [
        Trial(id=1, params={"--x": 0.5}, fom=0.125, attempts=1, duration=2.345),
        Trial(id=2, params={"--x": 0.25, "--act": "relu"}, status=Status.FAILED, attempts=3),
        Trial(
            id=3, params={"--x": 0.75}, fom=1.5, attempts=2, duration=10.0,
            info={"deme": 1, "generation": 4},
        ),
        Trial(
            id=4, params={"--lr": 0.01}, fom=0.5, attempts=1, duration=1.0,
            info={"member": 2, "step": 3, "exploited_from": {"member": 0}},
        ),
    ]  # fmt: skip
    with HumanLog(tmp_path, "run.log") as log:
        for trial in trials:
            log.write(trial)
    assert (tmp_path / "run.log").read_text().splitlines() == [
        'trial 1 ok fom=0.125 attempts=1 duration=2.35s params={"--x": 0.5}',
        f"trial 2 failed fom={math.inf} attempts=3 duration=0.00s "
        'params={"--x": 0.25, "--act": "relu"}',
        'deme 1 gen 4 trial 3 ok fom=1.5 attempts=2 duration=10.00s params={"--x": 0.75}',
        "member 2 step 3 from member 0 trial 4 ok fom=0.5 attempts=1 duration=1.00s "
        'params={"--lr": 0.01}',
    ]
    assert (tmp_path / "run.deme1.log").read_text().splitlines() == [
        'deme 1 gen 4 trial 3 ok fom=1.5 attempts=2 duration=10.00s params={"--x": 0.75}'
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.deme1.log", "run.log"]


async def test_a_genetic_run_logs_every_trial_and_routes_each_to_its_own_deme(
    tmp_path: Path,
) -> None:
    """Three demes of four: the global log holds every trial's line in the order they
    finished; each deme's file exactly the lines of that deme's trials (by the trial's
    own ``deme``, which trial ids do not follow)."""
    space = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)], ["--n", 3, (1, 10)]])

    def quadratic(params: dict[str, float]) -> float:
        return (params["--x"] - 0.3) ** 2 + 0.1 * (params["--n"] - 5) ** 2

    evaluator = hyperdeme.Evaluator(quadratic, run_path=str(tmp_path), num_parallel_evals=3)
    opt = hyperdeme.GeneticOptimizer(
        evaluator, generations=2, num_demes=3, pop_size=4, seed=5, name="ga", log_fn="ga.log"
    )
    result = await hyperdeme.optimize(opt, space)
    directory = tmp_path / "ga"
    logged = (directory / "ga.log").read_text().splitlines()
    assert sorted(logged) == sorted(expected(t) for t in result.trials)
    assert len(logged) == len(result.trials) > 0
    by_deme: dict[int, list[str]] = {}
    for line in logged:  # the global order, split by the deme each trial says
        trial = next(t for t in result.trials if expected(t) == line)
        by_deme.setdefault(trial.info["deme"], []).append(line)
    assert sorted(by_deme) == [0, 1, 2]
    for deme, lines in by_deme.items():
        assert (directory / f"ga.deme{deme}.log").read_text().splitlines() == lines
    # the run can tell routing by deme from routing by id
    assert any(t.id % 3 != t.info["deme"] for t in result.trials)
