"""A run with several objectives through the command: TOML, status, best, export, report."""

from __future__ import annotations

import csv
import io
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hyperdeme
from hyperdeme._cli._front_plot import pareto_plot
from hyperdeme._core._direction import pareto_front

from .conftest import invoke, write

OBJECTIVES = {"val_loss": "minimize", "accuracy": "maximize"}
PROGRAM = """\
import sys
args = dict(a.split("=", 1) for a in sys.argv[1:])
x, y = float(args["--x"]), float(args["--y"])
print(f"epoch 1 val_loss: {x * x + y!r}")
print(f"accuracy = {1 - (x - 1) ** 2 - y!r}")
"""
EXPERIMENT = f"""
command = "{sys.executable} two.py"
name = "pareto"

[evaluator]
src_path = "src"
run_path = "run"

[evaluator.objectives]
val_loss = "minimize"
accuracy = "maximize"

[optimizer]
type = "genetic"
max_evals = 24
seed = 4

[params."--x"]
default = 0.5
range = [-2.0, 2.0]

[params."--y"]
default = 0.5
range = [0.0, 1.0]
"""


@pytest.fixture(scope="module")
def pareto_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pareto")
    (directory / "src").mkdir()
    (directory / "src" / "two.py").write_text(PROGRAM)
    outcome = invoke("run", write(directory, EXPERIMENT))
    assert outcome.code == 0, outcome.err
    (directory / "run-output.txt").write_text(outcome.out)
    return directory / "run" / "pareto"


def front_of(run: Path) -> list[hyperdeme.Trial]:
    return pareto_front(hyperdeme.read_journal(run), OBJECTIVES)


def test_toml_objectives_reach_every_trial(pareto_run: Path) -> None:
    trials = hyperdeme.read_journal(pareto_run)
    assert len(trials) == 24
    assert all(list(t.objectives) == list(OBJECTIVES) for t in trials)


def test_the_run_summary_gives_the_fronts_size_not_a_best_fom(pareto_run: Path) -> None:
    summary = (pareto_run.parent.parent / "run-output.txt").read_text().splitlines()
    front = front_of(pareto_run)
    assert any(line.startswith(f"Pareto front: {len(front)} trial(s)") for line in summary)
    assert not any(line.startswith("best FoM") for line in summary)


def test_status_names_the_objectives_and_lists_the_front(pareto_run: Path) -> None:
    outcome = invoke("status", pareto_run)
    assert outcome.code == 0, outcome.err
    lines = outcome.out.splitlines()
    assert "objectives: val_loss (minimize), accuracy (maximize)" in lines
    front = front_of(pareto_run)
    assert any(line.startswith(f"Pareto front: {len(front)} trial(s)") for line in lines)
    shown = [line for line in lines if line.startswith("  trial ")]
    assert shown[0].startswith(f"  trial {front[0].id}: val_loss=")
    assert not any(line.startswith("best FoM") for line in lines)


def test_best_prints_every_front_trial_and_its_flags_reproduce_it(pareto_run: Path) -> None:
    outcome = invoke("best", pareto_run)
    assert outcome.code == 0, outcome.err
    lines = outcome.out.splitlines()
    front = front_of(pareto_run)
    assert len(lines) == 2 * len(front)
    for trial, (comment, flags) in zip(
        front, zip(lines[::2], lines[1::2], strict=True), strict=True
    ):
        assert comment == (
            f"# trial {trial.id}: val_loss={trial.objectives['val_loss']:.10g} "
            f"accuracy={trial.objectives['accuracy']:.10g}"
        )
        program = pareto_run.parent.parent / "src" / "two.py"
        rerun = subprocess.run(
            f"{shlex.quote(sys.executable)} {shlex.quote(str(program))} {flags}",
            shell=True,
            capture_output=True,
            text=True,
            check=True,
        )
        assert f"val_loss: {trial.objectives['val_loss']!r}" in rerun.stdout


def test_export_has_a_column_per_objective(pareto_run: Path) -> None:
    outcome = invoke("export", pareto_run, "--csv")
    assert outcome.code == 0, outcome.err
    rows = list(csv.DictReader(io.StringIO(outcome.out)))
    by_id = {t.id: t for t in hyperdeme.read_journal(pareto_run)}
    assert list(rows[0])[3:5] == ["objective.val_loss", "objective.accuracy"]
    for row in rows:
        trial = by_id[int(row["id"])]
        assert float(row["objective.val_loss"]) == trial.objectives["val_loss"]
        assert float(row["objective.accuracy"]) == trial.objectives["accuracy"]
        assert None not in row.values()  # every row as long as the header
        assert float(row["--x"]) == trial.params["--x"]


def test_report_plots_the_front_over_every_trial(pareto_run: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    outcome = invoke("report", pareto_run, "--output-dir", tmp_path)
    assert outcome.code == 0, outcome.err
    assert (tmp_path / "pareto_front.png").stat().st_size > 0
    assert "pareto_front.png" in outcome.out
    trials = hyperdeme.read_journal(pareto_run)
    figure = pareto_plot(trials, objectives=OBJECTIVES)
    assert figure is not None
    ax = figure.axes[0]
    everything, front = (np.asarray(c.get_offsets()) for c in ax.collections)
    assert len(everything) == sum(t.ok for t in trials)
    expected = [(t.objectives["val_loss"], t.objectives["accuracy"]) for t in front_of(pareto_run)]
    assert front.tolist() == [list(point) for point in expected]
    assert ax.get_xlabel() == "val_loss (lower is better)"
    assert ax.get_ylabel() == "accuracy (higher is better)"


def test_more_objectives_plot_every_pair_and_one_fom_plots_no_front() -> None:
    pytest.importorskip("matplotlib")
    trials = [
        hyperdeme.Trial(id=i, params={}, fom=float(i), objectives={"a": i, "b": -i, "c": i % 3})
        for i in range(1, 7)
    ]
    figure = pareto_plot(trials, objectives={"a": "minimize", "b": "minimize", "c": "minimize"})
    assert figure is not None
    assert len(figure.axes) == 3
    assert pareto_plot(trials, objectives={"a": "minimize"}) is None


def test_a_bad_direction_in_the_file_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    path = write(tmp_path, EXPERIMENT.replace('accuracy = "maximize"', 'accuracy = "max"'))
    outcome = invoke("run", path)
    assert outcome.code != 0
    assert "objectives.accuracy" in outcome.err
    assert "'minimize' or 'maximize', got 'max'" in outcome.err
    assert not (tmp_path / "run").exists()
