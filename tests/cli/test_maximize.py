"""``direction = "maximize"`` in an experiment file: run, status, best, export and report
all take the largest FoM as the best and say "higher is better"."""

from __future__ import annotations

import csv
import io
import math
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import hyperdeme
from headless import dump_dom
from hyperdeme._cli import _plots
from hyperdeme._cli._journal_view import read_run

from .conftest import EXPERIMENT, TRAIN, invoke, write

UP = EXPERIMENT.replace('name = "small"', 'name = "up"').replace(
    "[evaluator]\n", '[evaluator]\ndirection = "maximize"\n'
)


@pytest.fixture(scope="module")
def up_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The shared run's experiment, maximised: its run directory and what `run` printed."""
    directory = tmp_path_factory.mktemp("up")
    outcome = invoke("run", write(directory, UP))
    assert outcome.code == 0, outcome.err
    return directory / "run" / "up", outcome.out


def highest(trials: list[hyperdeme.Trial]) -> hyperdeme.Trial:
    return max((t for t in trials if t.ok), key=lambda t: (t.fom, -t.id))


def test_the_file_sets_the_direction_and_the_journal_records_it(
    up_run: tuple[Path, str],
) -> None:
    directory, printed = up_run
    view = read_run(directory)
    assert view.direction == "maximize"
    best = highest(view.trials)
    assert view.best is best
    assert best.fom > min(t.fom for t in view.trials if t.ok)  # not all the same
    assert f"best FoM: {best.fom:.10g} (trial {best.id}; higher is better)" in printed


def test_a_bad_direction_in_the_file_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, UP.replace('"maximize"', '"maximise"'))
    outcome = invoke("run", path, "--dry-run")
    assert outcome.code == 2
    assert f"{path}: key 'evaluator.direction': " in outcome.err
    assert "minimize, maximize" in outcome.err
    assert "'maximise'" in outcome.err


def test_status_shows_the_largest_fom(up_run: tuple[Path, str]) -> None:
    directory, _ = up_run
    outcome = invoke("status", directory)
    assert outcome.code == 0, outcome.err
    best = highest(hyperdeme.read_journal(directory))
    assert f"best FoM: {best.fom:.10g} (trial {best.id}; higher is better)" in outcome.out


def test_best_prints_the_flags_of_the_largest_fom(up_run: tuple[Path, str]) -> None:
    directory, _ = up_run
    outcome = invoke("best", directory)
    assert outcome.code == 0, outcome.err
    rerun = subprocess.run(
        f"{shlex.quote(sys.executable)} {shlex.quote(str(TRAIN))} {outcome.out.strip()}",
        shell=True,
        capture_output=True,
        text=True,
        check=True,
    )
    fom = float(rerun.stdout.rsplit("FoM: ", 1)[1])
    assert fom == highest(hyperdeme.read_journal(directory)).fom


def test_export_keeps_the_programs_foms(up_run: tuple[Path, str]) -> None:
    directory, _ = up_run
    outcome = invoke("export", directory, "--csv")
    assert outcome.code == 0, outcome.err
    rows = list(csv.DictReader(io.StringIO(outcome.out)))
    trials = hyperdeme.read_journal(directory)
    assert [float(row["fom"]) for row in rows] == [t.fom for t in trials]
    assert [float(row["metric.FoM"]) for row in rows if row["status"] == "ok"] == [
        t.fom for t in trials if t.ok
    ]


def test_the_plots_follow_the_direction(up_run: tuple[Path, str]) -> None:
    directory, _ = up_run
    trials = hyperdeme.read_journal(directory)
    (line,) = _plots.best_over_trials(trials, direction="maximize").axes[0].get_lines()
    expected, best = [], -math.inf
    for trial in trials:
        best = max(best, trial.fom) if trial.ok else best
        if math.isfinite(best):
            expected.append(best)
    assert list(line.get_ydata()) == expected
    assert line.axes.get_ylabel().startswith("best FoM (higher is better; ")
    (timed,) = _plots.best_over_time(trials, direction="maximize").axes[0].get_lines()
    assert timed.get_ydata()[-1] == highest(trials).fom
    axes = _plots.fom_per_trial(trials, direction="maximize").axes[0]
    assert axes.get_ylabel().startswith("FoM (higher is better; ")
    top = _plots.parallel_axes(trials, top=5, direction="maximize").trials
    assert [t.fom for t in top] == sorted((t.fom for t in trials if t.ok), reverse=True)[:5]
    figure = _plots.parallel_coordinates(trials, top=5, direction="maximize")
    lines = [line for line in figure.axes[0].get_lines() if line.get_label().startswith("trial")]
    colours = {line.get_label(): line.get_color() for line in lines}
    best_colour, worst_colour = colours[f"trial {top[0].id}"], colours[f"trial {top[-1].id}"]
    assert sum(best_colour[:3]) < sum(worst_colour[:3])  # darker for a better FoM
    assert figure.axes[1].get_ylabel().startswith("FoM (higher is better; ")


def test_the_report_marks_the_largest_fom_and_renders_in_chromium(
    up_run: tuple[Path, str], tmp_path: Path
) -> None:
    directory, _ = up_run
    assert invoke("report", directory, "-o", tmp_path / "report").code == 0
    page = tmp_path / "report" / "report.html"
    dom = dump_dom(page.as_uri(), tmp_path / "profile")
    widths = re.search(r'data-image-widths="([^"]*)"', dom)
    assert widths is not None, dom[:500]
    assert [int(w) > 0 for w in widths.group(1).split(",")] == [True] * 4
    best = highest(read_run(directory).trials)
    assert re.findall(r'<tr class="best" data-trial="(\d+)">', dom) == [str(best.id)]
    assert "<th>FoM (higher is better)</th>" in dom
    assert f"best FoM: {best.fom:.10g} (trial {best.id}; higher is better)" in dom


def test_the_report_draws_each_plot_for_the_direction(
    up_run: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperdeme._cli import _report

    asked: dict[str, str] = {}

    def recording(name: str, plot: _plots.Plot) -> _plots.Plot:
        def draw(
            trials: Sequence[hyperdeme.Trial], *, direction: str = "minimize", history: Any = None
        ) -> Any:
            asked[name] = direction
            return plot(trials, direction=direction, history=history)  # type: ignore[arg-type]

        return draw  # type: ignore[return-value]

    plots = {
        name: (caption, recording(name, plot)) for name, (caption, plot) in _plots.PLOTS.items()
    }
    monkeypatch.setattr(_report, "PLOTS", plots)
    report = _report.write_report(read_run(up_run[0]), directory=tmp_path)
    assert len(report.images) == 4
    assert asked == dict.fromkeys(_plots.PLOTS, "maximize")
