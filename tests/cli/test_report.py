"""report: the plotted data matches the journal, the PNGs decode, the page renders in chromium."""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

import hyperdeme
from headless import dump_dom
from hyperdeme._cli import _plots
from hyperdeme._cli._html import render_html
from hyperdeme._cli._journal_view import read_run

from .conftest import invoke

matplotlib_image = pytest.importorskip("matplotlib.image")


@pytest.fixture(scope="module")
def trials(finished_run: Path) -> list[hyperdeme.Trial]:
    return hyperdeme.read_journal(finished_run)


def running_best(trials: list[hyperdeme.Trial]) -> list[float]:
    best, values = math.inf, []
    for trial in trials:
        if trial.ok:
            best = min(best, trial.fom)
        if math.isfinite(best):
            values.append(best)
    return values


def test_best_so_far_over_trials(trials: list[hyperdeme.Trial]) -> None:
    (line,) = _plots.best_over_trials(trials).axes[0].get_lines()
    expected = running_best(trials)
    assert list(line.get_ydata()) == expected
    first_ok = next(n for n, t in enumerate(trials, 1) if t.ok)
    assert list(line.get_xdata()) == list(range(first_ok, len(trials) + 1))
    assert line.get_ydata()[-1] == min(t.fom for t in trials if t.ok)


def test_best_so_far_over_time(trials: list[hyperdeme.Trial]) -> None:
    (line,) = _plots.best_over_time(trials).axes[0].get_lines()
    by_end = sorted(trials, key=lambda t: t.ended)
    start = min(t.started for t in trials)
    expected_x = [t.ended - start for t in by_end][len(by_end) - len(running_best(by_end)) :]
    assert list(line.get_xdata()) == expected_x
    assert list(line.get_ydata()) == running_best(by_end)
    assert all(x > 0 for x in line.get_xdata())


def test_fom_of_every_trial_by_deme_and_failures_by_status(
    trials: list[hyperdeme.Trial],
) -> None:
    ax = _plots.fom_per_trial(trials).axes[0]
    plotted = {c.get_label(): c.get_offsets().tolist() for c in ax.collections}
    demes = sorted({t.info["deme"] for t in trials})
    assert list(plotted) == [f"deme {d}" for d in demes]
    for deme in demes:
        expected = [
            [t.id, t.fom]
            for t in sorted(trials, key=lambda t: t.id)
            if t.ok and t.info["deme"] == deme
        ]
        assert plotted[f"deme {deme}"] == expected
    (failed_line,) = ax.get_lines()
    assert failed_line.get_label() == "failed (no FoM)"
    assert list(failed_line.get_xdata()) == [t.id for t in trials if not t.ok]


def test_fom_of_every_trial_by_status_without_demes() -> None:
    trials = [
        hyperdeme.Trial(id=1, params={"--x": 1}, fom=2.0),
        hyperdeme.Trial(id=2, params={"--x": 2}, status=hyperdeme.Status.TIMEOUT),
        hyperdeme.Trial(id=3, params={"--x": 3}, fom=1.0),
    ]
    ax = _plots.fom_per_trial(trials).axes[0]
    assert [(c.get_label(), c.get_offsets().tolist()) for c in ax.collections] == [
        ("ok", [[1, 2.0], [3, 1.0]])
    ]
    assert [(line.get_label(), list(line.get_xdata())) for line in ax.get_lines()] == [
        ("timeout (no FoM)", [2])
    ]


def test_parallel_coordinates_without_a_space_of_the_best_trials(
    trials: list[hyperdeme.Trial],
) -> None:
    """Without the journal's search space (see test_report_honest.py for it), an axis
    spans the values of the trials drawn."""
    ok = sorted((t for t in trials if t.ok), key=lambda t: (t.fom, t.id))
    top = ok[: _plots.PARALLEL_TOP]
    assert any("--momentum" in t.params for t in top)
    assert any("--momentum" not in t.params for t in top)
    figure = _plots.parallel_coordinates(trials)
    ax = figure.axes[0]
    lines = [line for line in ax.get_lines() if line.get_label().startswith("trial ")]
    assert [line.get_label() for line in reversed(lines)] == [f"trial {t.id}" for t in top]
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    assert labels[0] == "--lr"
    # --lr scaled linearly between the smallest and largest value of these trials
    lrs = [t.params["--lr"] for t in top]
    for line, trial in zip(reversed(lines), top, strict=True):
        expected = (trial.params["--lr"] - min(lrs)) / (max(lrs) - min(lrs))
        assert line.get_ydata()[0] == pytest.approx(expected)
        momentum = line.get_ydata()[labels.index("--momentum")]
        assert math.isnan(momentum) == ("--momentum" not in trial.params)


def test_parallel_axes_of_value_lists_follow_first_seen_order() -> None:
    trials = [
        hyperdeme.Trial(id=i, params={"--opt": opt, "--n": n}, fom=fom)
        for i, (opt, n, fom) in enumerate([("adam", 2, 0.1), ("sgd", 2, 0.2), ("rms", 2, 0.3)], 1)
    ]
    data = _plots.parallel_axes(trials)
    assert data.flags == ["--opt", "--n"]
    assert data.rows == [[0.0, 0.5], [0.5, 0.5], [1.0, 0.5]]
    assert data.ends == [("adam", "rms"), ("2", "2")]


def test_report_writes_pngs_that_decode_and_a_self_contained_page(
    finished_run: Path, tmp_path: Path
) -> None:
    outcome = invoke("report", finished_run, "-o", tmp_path)
    assert outcome.code == 0, outcome.err
    assert f"report: {tmp_path / 'report.html'}" in outcome.out
    names = ["best_over_time", "best_over_trials", "fom_per_trial", "parallel_coordinates"]
    for name in names:
        image = matplotlib_image.imread(tmp_path / f"{name}.png")
        assert image.shape[0] > 100
        assert image.shape[1] > 100
        assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 10  # not blank
    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)  # nothing fetched
    trials = hyperdeme.read_journal(finished_run)
    assert page.count("<tr class=") == len(trials)


def test_the_page_inlines_the_stylesheet_and_script_files_of_the_package() -> None:
    """They are files (report.css, report.js), not strings in the code; the page carries them."""
    page = render_html(title="t", summary=[], images={}, trials=[])
    for name, tag in (("report.css", "style"), ("report.js", "script")):
        text = files("hyperdeme._cli").joinpath(name).read_text(encoding="utf-8")
        assert len(text) > 100
        assert f"<{tag}>\n{text}</{tag}>" in page


def test_report_defaults_to_the_run_directory(finished_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy, symlinks=True)
    assert invoke("report", copy).code == 0
    assert (copy / "report.html").is_file()
    assert len(list(copy.glob("*.png"))) == 4


def test_without_matplotlib_the_message_names_the_extra(
    finished_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)
    outcome = invoke("report", finished_run, "-o", tmp_path)
    assert outcome.code == 2
    assert "pip install 'hyperdeme[plot]'" in outcome.err
    assert not (tmp_path / "report.html").exists()


def test_the_report_renders_in_headless_chromium(finished_run: Path, tmp_path: Path) -> None:
    assert invoke("report", finished_run, "-o", tmp_path / "report").code == 0
    page = tmp_path / "report" / "report.html"
    dom = dump_dom(page.as_uri(), tmp_path / "profile")
    # every image decoded (the page's script wrote their natural widths after load)
    widths = re.search(r'data-image-widths="([^"]*)"', dom)
    assert widths is not None, dom[:500]
    assert [int(w) > 0 for w in widths.group(1).split(",")] == [True] * 4
    # the table: one row per trial, the best one marked
    trials = read_run(finished_run).trials
    assert len(re.findall(r'<tr class="\w+" data-trial="\d+">', dom)) == len(trials)
    best = min((t for t in trials if t.ok), key=lambda t: (t.fom, t.id))
    assert f'<tr class="best" data-trial="{best.id}">' in dom


@pytest.fixture(scope="module")
def pbt_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run directory of a small population-based training run of a function evaluator
    (its checkpoint is a directory it keeps its training state in)."""
    directory = tmp_path_factory.mktemp("pbt")

    def train(params: dict[str, float], checkpoint: str | None = None) -> float:
        assert checkpoint is not None
        state = Path(checkpoint) / "state"
        loss = float(state.read_text()) if state.exists() else 1.0
        loss *= 1.0 - min(params["--lr"], 0.9) * params["--momentum"]
        state.write_text(repr(loss))
        return loss

    evaluator = hyperdeme.Evaluator(train, run_path=str(directory / "run"))
    optimizer = hyperdeme.PBTOptimizer(
        evaluator, population=3, steps=4, quantile=0.34, seed=2, name="pbt"
    )
    space = hyperdeme.Params(
        [["--lr", 0.1, (1e-3, 1.0), {"log": True}], ["--momentum", 0.5, (0.0, 0.99)]]
    )
    optimizer.optimize(space)
    return directory / "run" / "pbt"


def test_pbt_schedules_plot_each_members_hyperparameters_step_by_step(pbt_run: Path) -> None:
    pbt_trials = hyperdeme.read_journal(pbt_run)
    figure = _plots.schedules(pbt_trials)
    assert figure is not None
    axes = figure.axes
    assert [ax.get_ylabel() for ax in axes] == ["--lr", "--momentum"]
    for ax, flag in zip(axes, ["--lr", "--momentum"], strict=True):
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == ["member 0", "member 1", "member 2"]
        for member, line in enumerate(lines):
            mine = sorted(
                (t for t in pbt_trials if t.info["member"] == member),
                key=lambda t: t.info["step"],
            )
            assert len(mine) == 4
            assert list(line.get_xdata()) == [t.info["step"] for t in mine]
            assert list(line.get_ydata()) == [t.params[flag] for t in mine]


def test_the_schedules_plot_is_only_for_population_based_training(
    trials: list[hyperdeme.Trial], pbt_run: Path, tmp_path: Path
) -> None:
    assert _plots.schedules(trials) is None
    outcome = invoke("report", pbt_run, "-o", tmp_path)
    assert outcome.code == 0, outcome.err
    image = matplotlib_image.imread(tmp_path / "schedules.png")
    assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 10  # not blank
    assert (tmp_path / "report.html").read_text().count("data:image/png;base64,") == 5


def test_the_table_counts_failures_as_everywhere_else(tmp_path: Path) -> None:
    """An ok trial with FoM inf and a cancelled one are no failures (``FAILURES``)."""
    statuses = ["ok", "ok", "cancelled", "failed", "timeout", "stopped", "no_metric"]
    foms = [0.5, math.inf, math.inf, math.inf, math.inf, 0.25, math.inf]
    trials = [
        hyperdeme.Trial(
            id=n, params={"--x": n / 10}, fom=fom, status=hyperdeme.Status(status), ended=100.0
        )
        for n, (status, fom) in enumerate(zip(statuses, foms, strict=True), 1)
    ]
    run = tmp_path / "run"
    run.mkdir()
    (run / "trials.jsonl").write_text("".join(json.dumps(t.to_json()) + "\n" for t in trials))
    assert invoke("report", run, "-o", tmp_path).code == 0
    page = (tmp_path / "report.html").read_text()
    kinds = {int(n): kind for kind, n in re.findall(r'<tr class="(\w+)" data-trial="(\d+)">', page)}
    assert kinds == {
        1: "best",
        2: "ok",
        3: "cancelled",
        4: "failed",
        5: "failed",
        6: "stopped",
        7: "failed",
    }
    failed = sorted(n for n, kind in kinds.items() if kind == "failed")
    assert hyperdeme.Result(trials=trials).n_failed == len(failed)
    assert "failed: 3" in invoke("status", run).out


@pytest.mark.parametrize(("high", "scale"), [(10.0, "linear"), (10.5, "log")])
def test_a_fom_axis_is_logarithmic_past_a_decade(high: float, scale: str) -> None:
    trials = [
        hyperdeme.Trial(id=1, params={"--x": 1}, fom=1.0),
        hyperdeme.Trial(id=2, params={"--x": 2}, fom=high),
    ]
    assert _plots.fom_per_trial(trials).axes[0].get_yscale() == scale
    assert _plots.best_over_trials(trials[::-1]).axes[0].get_yscale() == scale
    pbt = [
        hyperdeme.Trial(id=n, params={"--lr": lr}, fom=1.0, info={"strategy": "pbt", "member": 0})
        for n, lr in enumerate([1.0, high], 1)
    ]
    figure = _plots.schedules(pbt)
    assert figure is not None
    assert figure.axes[0].get_yscale() == scale


#: values and flags matplotlib would read as math text or LaTeX (issue 18.10)
HOSTILE = ["$\\foo{$", "$x$ and $y$", "a_b^c", "100% #1 &amp; <b>", "\\textbf{x}", "é ☃", "$", "$$"]
HOSTILE_FLAG = "--act $\\foo{$"


@pytest.fixture
def hostile_run(tmp_path: Path) -> Path:
    run = tmp_path / "hostile"
    run.mkdir()
    trials = [
        hyperdeme.Trial(
            id=n,
            params={HOSTILE_FLAG: value, "--lr": n / 10, "--n$x$": n},
            fom=1.0 / n,
            started=1000.0 + n,
            ended=1001.0 + n,
            info={"deme": n % 2},
        )
        for n, value in enumerate(HOSTILE, 1)
    ]
    (run / "trials.jsonl").write_text("".join(json.dumps(t.to_json()) + "\n" for t in trials))
    return run


def test_values_and_flags_are_drawn_as_the_text_they_are(hostile_run: Path, tmp_path: Path) -> None:
    """``$\\foo{$`` stopped the report (matplotlib parsed it as math); now every label
    shows exactly the value or flag."""
    outcome = invoke("report", hostile_run, "-o", tmp_path / "out")
    assert outcome.code == 0, outcome.err
    figure = _plots.parallel_coordinates(read_run(hostile_run).trials)
    figure.canvas.draw()  # the parse happens when drawing
    ax = figure.axes[0]
    shown = []
    for text in [*ax.get_xticklabels(), *ax.texts]:
        # what matplotlib displays: not math, and the original characters
        displayed, is_math = text._preprocess_math(text.get_text())
        assert is_math is False
        assert displayed in {HOSTILE_FLAG, "--lr", "--n$x$", *HOSTILE} or float(displayed)
        shown.append(displayed)
    # every value has its tick on its axis (the flags: the x ticks)
    assert {HOSTILE_FLAG, "--lr", "--n$x$", *HOSTILE} <= set(shown)


def test_a_matplotlibrc_asking_for_latex_does_not_reach_the_report(
    hostile_run: Path, tmp_path: Path
) -> None:
    from matplotlib import rc_context

    with rc_context({"text.usetex": True}):
        outcome = invoke("report", hostile_run, "-o", tmp_path / "out")
    assert outcome.code == 0, outcome.err


def test_a_report_that_cannot_be_written_exits_2_saying_where_and_how(
    hostile_run: Path, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    outcome = invoke("report", hostile_run, "-o", tmp_path / "a-file" / "report")
    assert outcome.code == 2
    assert outcome.err.strip() == (
        f"hyperdeme report: error: cannot write the report in {tmp_path / 'a-file' / 'report'}: "
        "Not a directory. Choose another directory with --output-dir DIR "
        "(hyperdeme report RUN_DIR --output-dir DIR)."
    )


def test_a_read_only_run_directory_exits_2_naming_it(hostile_run: Path) -> None:
    """The default place is the run directory: read-only (a bind mount), the message says
    so and how to write elsewhere; nothing is written."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root (CI runs as root)")
    subprocess.run(["mount", "--bind", hostile_run, hostile_run], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", hostile_run], check=True)
        outcome = invoke("report", hostile_run)
    finally:
        subprocess.run(["umount", hostile_run], check=True)
    assert outcome.code == 2
    assert f"cannot write the report in {hostile_run}: Read-only file system." in outcome.err
    assert "--output-dir DIR" in outcome.err
    assert os.listdir(hostile_run) == ["trials.jsonl"]


def test_a_link_planted_as_the_report_is_refused(hostile_run: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.html"
    outside.write_text("precious")
    (hostile_run / "report.html").symlink_to(outside)
    outcome = invoke("report", hostile_run)
    assert outcome.code == 2
    assert f"{hostile_run / 'report.html'} is a symbolic link" in outcome.err
    assert outside.read_text() == "precious"


def test_hostile_values_render_as_text_in_headless_chromium(
    hostile_run: Path, tmp_path: Path
) -> None:
    assert invoke("report", hostile_run, "-o", tmp_path / "report").code == 0
    dom = dump_dom((tmp_path / "report" / "report.html").as_uri(), tmp_path / "profile")
    widths = re.search(r'data-image-widths="([^"]*)"', dom)
    assert widths is not None, dom[:500]
    assert [int(w) > 0 for w in widths.group(1).split(",")] == [True] * 4
    cells = re.findall(r"<td>([^<]*)</td>", dom)

    for value in HOSTILE:
        assert html.escape(value, quote=False) in cells
    assert f"<th>{html.escape(HOSTILE_FLAG)}</th>" in dom
