"""hyperdeme run: real runs, exit codes, resume, SIGTERM, live progress and the trial budget."""

from __future__ import annotations

import io
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest
from rich.console import Console

import hyperdeme
from hyperdeme._cli import _run
from hyperdeme._cli._budget import trial_budget
from hyperdeme._cli._experiment import load_experiment
from hyperdeme._driver import _progress
from hyperdeme._driver._progress import Progress

from .conftest import EXPERIMENT, HERE, invoke, write


def random_experiment(command: str, *, num_iters: int = 3, extra: str = "") -> str:
    return f"""
command = "{command}"
name = "r"
[evaluator]
src_path = "{HERE}"
run_path = "run"
num_parallel_evals = 2
[optimizer]
type = "random"
num_iters = {num_iters}
seed = 2
{extra}
[params."--lr"]
default = 0.1
range = [0.001, 1.0]
[params."--layers"]
values = [1, 2, 3]
"""


TRAIN_COMMAND = f"{sys.executable} train.py"


def test_a_run_prints_its_directory_and_a_summary(tmp_path: Path) -> None:
    outcome = invoke("run", write(tmp_path, random_experiment(TRAIN_COMMAND)))
    assert outcome.code == 0, outcome.err
    run_dir = tmp_path / "run" / "r"
    trials = hyperdeme.read_journal(run_dir)
    best = min(trials, key=lambda t: t.fom)
    assert outcome.out.splitlines()[0] == f"run directory: {run_dir}"
    assert "trials: 3 in " in outcome.out
    assert f"best FoM: {best.fom:.10g} (trial {best.id})" in outcome.out
    assert outcome.err == ""  # no progress when stderr is not a terminal


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    outcome = invoke("run", write(tmp_path, random_experiment(TRAIN_COMMAND)), "--quiet")
    assert (outcome.code, outcome.out, outcome.err) == (0, "", "")
    assert len(hyperdeme.read_journal(tmp_path / "run" / "r")) == 3


def test_a_run_on_trio(tmp_path: Path) -> None:
    text = random_experiment(TRAIN_COMMAND, extra='backend = "trio"')
    assert invoke("run", write(tmp_path, text)).code == 0
    assert len(hyperdeme.read_journal(tmp_path / "run" / "r")) == 3


def test_a_broken_command_exits_1(tmp_path: Path) -> None:
    failing = f"{sys.executable} -c 'import sys; sys.exit(3)'"
    outcome = invoke("run", write(tmp_path, random_experiment(failing, num_iters=5)))
    assert outcome.code == 1
    assert "the run failed: the first 3 trials all failed" in outcome.err
    assert "exit code 3" in outcome.err


def test_a_run_where_no_trial_succeeded_exits_1(tmp_path: Path) -> None:
    failing = f"{sys.executable} -c 'import sys; sys.exit(3)'"
    outcome = invoke("run", write(tmp_path, random_experiment(failing, num_iters=2)))
    assert outcome.code == 1
    assert "no trial succeeded (2 finished)" in outcome.err


def test_an_existing_run_needs_resume_which_runs_nothing_again(tmp_path: Path) -> None:
    path = write(tmp_path, random_experiment(TRAIN_COMMAND))
    assert invoke("run", path).code == 0
    first = hyperdeme.read_journal(tmp_path / "run" / "r")
    again = invoke("run", path)
    assert again.code == 2
    assert "already holds trials; resume it (resume=True, or hyperdeme run --resume" in again.err
    assert invoke("run", path, "--resume").code == 0
    # the budget was used up: resuming a finished experiment runs nothing again
    assert hyperdeme.read_journal(tmp_path / "run" / "r") == first


def test_run_path_on_the_command_line_wins(tmp_path: Path) -> None:
    path = write(tmp_path, random_experiment(TRAIN_COMMAND))
    assert invoke("run", path, "--run-path", tmp_path / "other").code == 0
    assert (tmp_path / "other" / "r" / "trials.jsonl").is_file()
    assert not (tmp_path / "run").exists()


def test_sigterm_stops_the_run_cleanly_and_exits_143(tmp_path: Path) -> None:
    # the trial's shell is the driver's child: it sends the driver SIGTERM, then waits
    command = "kill -TERM $PPID; exec sleep 60 #"
    path = write(tmp_path, random_experiment(command, num_iters=1))
    driver = subprocess.run(
        [sys.executable, "-m", "hyperdeme", "run", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert driver.returncode == 143, driver.stderr
    (trial,) = hyperdeme.read_journal(tmp_path / "run" / "r")
    assert trial.status is hyperdeme.Status.CANCELLED
    assert driver.stderr.endswith(
        f"hyperdeme run: stopped (SIGTERM); the journal in {tmp_path / 'run' / 'r'} keeps "
        "every finished trial. To continue (finished trials are not run again): "
        f"hyperdeme run {path} --resume\n"
    )


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_after_ctrl_c_the_run_says_the_line_that_continues_it(tmp_path: Path, backend: str) -> None:
    """Issue 21: it said only "interrupted". The line it prints continues the run."""
    marker = tmp_path / "interrupted-once"
    # the first trial sends the driver SIGINT (as Ctrl-C does) and waits; later ones train
    command = (
        f"test -e {marker} || {{ touch {marker}; kill -INT $PPID; exec sleep 60; }}; "
        f"exec {sys.executable} train.py"
    )
    text = random_experiment(command, num_iters=2, extra=f'backend = "{backend}"')
    path = write(tmp_path, text)
    driver = subprocess.run(
        [sys.executable, "-m", "hyperdeme", "run", str(path), "--max-evals", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert driver.returncode == 130, driver.stderr
    said = driver.stderr.splitlines()[-1]
    assert said.startswith("hyperdeme run: interrupted (Ctrl-C); ")
    line = said.split("To continue (finished trials are not run again): ")[1]
    assert line == f"hyperdeme run {path} --max-evals 2 --resume"
    again = invoke(*shlex.split(line)[1:])
    assert again.code == 0, again.err
    trials = hyperdeme.read_journal(tmp_path / "run" / "r")
    assert sum(t.ok for t in trials) == 2


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_off_a_terminal_run_prints_a_plain_progress_line_every_few_seconds(
    tmp_path: Path, backend: str
) -> None:
    """Issue 21: a batch job's log (stderr a file) showed nothing until the run's end."""
    slow = f"sleep 0.5; exec {sys.executable} train.py"
    path = write(tmp_path, random_experiment(slow, extra=f'backend = "{backend}"'))
    outcome = invoke("run", path, "--progress-every", "0.05")
    assert outcome.code == 0, outcome.err
    lines = outcome.err.splitlines()
    assert lines, "no progress line"
    assert "\x1b" not in outcome.err
    assert all(" trials · " in line and " elapsed" in line for line in lines)
    assert lines[0].startswith(("0/3 trials · ", "1/3 trials · "))
    assert invoke("run", path, "--progress-every", "0").code == 2


def test_a_resumed_run_counts_this_runs_trials_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: the summary counted the journal's trials as this driver's, and the
    progress line's pace with them."""
    path = write(tmp_path, random_experiment(TRAIN_COMMAND))
    assert invoke("run", path).code == 0
    RecordingProgress.screen = io.StringIO()
    monkeypatch.setattr(_progress, "Progress", RecordingProgress)
    outcome = invoke("run", path, "--resume", "--max-evals", "5")
    assert outcome.code == 0, outcome.err
    assert "trials: 5 (2 this run, 3 before) in " in outcome.out
    assert "5/5 trials (3 before this run) · 0 running" in RecordingProgress.screen.getvalue()


class RecordingProgress(Progress):
    """Draws on a terminal it pretends to have; records the running count at each change."""

    seen: ClassVar[list[int]] = []
    screen: ClassVar[io.StringIO] = io.StringIO()

    def __init__(self, **kwargs: Any) -> None:
        console = Console(file=type(self).screen, force_terminal=True, width=150)
        super().__init__(console=console, **kwargs)

    def _refresh(self) -> None:
        type(self).seen.append(self.state.running)
        super()._refresh()


def test_live_progress_on_a_terminal_stays_out_of_the_trials_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    RecordingProgress.seen = []
    RecordingProgress.screen = io.StringIO()
    monkeypatch.setattr(_progress, "Progress", RecordingProgress)
    experiment = load_experiment(write(tmp_path, EXPERIMENT))
    result = _run.run_experiment(experiment, out=io.StringIO())
    n = len(result.trials)
    failed = result.n_failed
    shown = RecordingProgress.screen.getvalue()
    assert f"{n}/16 trials · 0 running · {failed} failed · best FoM {result.best_fom:.6g}" in shown
    # one change when each trial starts and when it finishes: within the slots, ending at 0
    seen = RecordingProgress.seen
    assert len(seen) == 2 * n
    assert max(seen) in (1, 2)
    assert min(seen) >= 0
    assert seen[-1] == 0
    for log in experiment.run_dir.glob("*/std*.log"):
        assert "trials ·" not in log.read_text()


def quadratic(params: dict[str, Any]) -> float:
    return float((params["--x"] - 0.3) ** 2 + params.get("--n", 0))


@pytest.mark.parametrize(
    ("make", "spec"),
    [
        (lambda e: hyperdeme.RandomOptimizer(e, num_iters=7, seed=1), None),
        (
            lambda e: hyperdeme.GeneticOptimizer(e, generations=3, num_demes=2, pop_size=3, seed=1),
            None,
        ),
        (
            lambda e: hyperdeme.GeneticOptimizer(
                e, generations=3, num_demes=2, pop_size=3, mode="generational", seed=1
            ),
            None,
        ),
        # the baseline (0.9, 1) is not a grid point: 3 x 3 + 1
        (lambda e: hyperdeme.GridOptimizer(e, grid_size=3), None),
        # the baseline (0.0, 1) is a grid point: asked once
        (
            lambda e: hyperdeme.GridOptimizer(e, grid_size=3),
            [["--x", 0.0, (0.0, 1.0)], ["--n", 1, [1, 2, 3]]],
        ),
        # no defaults, no baseline
        (lambda e: hyperdeme.GridOptimizer(e, grid_size=3), [["--x", (0.0, 1.0)], ["--n", [1, 2]]]),
    ],
)
async def test_the_budget_is_the_number_of_trials_run(
    tmp_path: Path, make: Any, spec: list[Any] | None
) -> None:
    params = hyperdeme.Params(spec or [["--x", 0.9, (0.0, 1.0)], ["--n", 1, [1, 2, 3]]])
    optimizer = make(hyperdeme.Evaluator(quadratic, run_path=str(tmp_path)))
    budget = trial_budget(optimizer, params)
    result = await hyperdeme.optimize(optimizer, params)
    assert budget == len(result.trials)


def test_a_grid_with_conditions_has_no_known_budget() -> None:
    params = hyperdeme.Params(
        [["--x", 0.9, (0.0, 1.0)], ["--n", 1, [1, 2, 3]]],
        conditions=[hyperdeme.condition.greater_than("--x", "--n", 1)],
    )
    assert trial_budget(hyperdeme.GridOptimizer(None, grid_size=3), params) is None
