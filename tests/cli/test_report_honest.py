"""report (issue 21): what the plots and the table show is what the journal says.

Stopped trials at their FoM, the parallel coordinates on the recorded search
space, best-so-far's scale and the pause of a resume, the table's order and its
explanations, a read-only run directory, and any text in names and errors. Each
test reads the plotted data back from the figure or the page.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hyperdeme
from headless import dump_dom
from hyperdeme._cli import _plots
from hyperdeme._cli._history import History, Pause, read_history
from hyperdeme._cli._html import render_html
from hyperdeme._cli._journal_view import read_run

from .conftest import HERE, invoke, write

matplotlib_image = pytest.importorskip("matplotlib.image")

Status = hyperdeme.Status


def trial(n: int, fom: float, status: str = "ok", **params: object) -> hyperdeme.Trial:
    return hyperdeme.Trial(
        id=n, params={"--x": n / 10, **params}, fom=fom, status=Status(status), ended=100.0 + n
    )


# -- the FoM of every trial ---------------------------------------------------------------


def test_stopped_trials_are_drawn_at_their_fom_and_only_trials_without_one_at_the_top() -> None:
    trials = [
        trial(1, 0.5),
        trial(2, 0.18, "stopped"),  # stopped early, among the best
        trial(3, math.inf, "failed"),
        trial(4, 0.9, "stopped"),
        trial(5, math.inf, "stopped"),  # stopped before its first FoM
        trial(6, 0.3),
    ]
    ax = _plots.fom_per_trial(trials).axes[0]
    points = {c.get_label(): c.get_offsets().tolist() for c in ax.collections}
    assert points == {
        "ok": [[1, 0.5], [6, 0.3]],
        "stopped early (at its last FoM)": [[2, 0.18], [4, 0.9]],
    }
    (stopped,) = [c for c in ax.collections if c.get_label().startswith("stopped")]
    assert stopped.get_paths()[0] != ax.collections[0].get_paths()[0]  # its own marker
    crosses = {line.get_label(): list(line.get_xdata()) for line in ax.get_lines()}
    assert crosses == {"failed (no FoM)": [3], "stopped (no FoM)": [5]}
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "stopped early (at its last FoM)" in legend


# -- parallel coordinates -----------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(finished_run: Path) -> tuple[list[hyperdeme.Trial], _plots.ParallelAxes]:
    trials = hyperdeme.read_journal(finished_run)
    history = read_history(finished_run / "trials.jsonl")
    return trials, _plots.parallel_axes(trials, history=history)


def test_parallel_axes_span_the_recorded_search_space(
    shared: tuple[list[hyperdeme.Trial], _plots.ParallelAxes],
) -> None:
    """The space of tests/cli/conftest.py's EXPERIMENT: --lr on [1e-4, 1] (log),
    --optimizer's three values (``broken`` never has a FoM, yet has its tick),
    --momentum on [0, 0.99], --layers on [1, 6]."""
    trials, data = shared
    with_fom = sorted((t for t in trials if t.has_fom), key=lambda t: (t.fom, t.id))
    assert data.trials == with_fom
    assert data.total == len(with_fom)
    assert data.flags == ["--lr", "--optimizer", "--momentum", "--layers"]
    assert data.scales == ["log", "values", "linear", "linear"]
    assert [label for _, label in data.ticks[1]] == ["sgd", "adam", "broken"]
    assert [label for _, label in data.ticks[3]] == ["1", "2", "3", "4", "5", "6"]
    assert data.ends[0] == ("0.0001", "1")
    for row, t in zip(data.rows, data.trials, strict=True):
        assert row[0] == pytest.approx((math.log10(t.params["--lr"]) + 4) / 4)
        assert row[1] == ["sgd", "adam", "broken"].index(t.params["--optimizer"]) / 2
        if "--momentum" in t.params:
            assert row[2] == pytest.approx(t.params["--momentum"] / 0.99)
        else:
            assert math.isnan(row[2])
        assert row[3] == pytest.approx((t.params["--layers"] - 1) / 5)


def test_the_parallel_plot_draws_and_colours_every_trial_and_says_what_it_shows(
    finished_run: Path,
) -> None:
    from matplotlib import colormaps

    trials = hyperdeme.read_journal(finished_run)
    figure = _plots.parallel_coordinates(trials, history=read_history(finished_run))
    ax, colour_bar = figure.axes
    foms = {t.id: t.fom for t in trials if t.has_fom}
    lines = {
        int(line.get_label().removeprefix("trial ")): line
        for line in ax.get_lines()
        if line.get_label().startswith("trial ")
    }
    assert sorted(lines) == sorted(foms)
    # the colour scale spans every plotted trial: the best is its one end, the worst the other
    assert colour_bar.get_ylim() == pytest.approx((min(foms.values()), max(foms.values())))
    best, worst = min(foms, key=foms.__getitem__), max(foms, key=foms.__getitem__)
    assert lines[best].get_color() == pytest.approx(colormaps["viridis"](0.0))
    assert lines[worst].get_color() == pytest.approx(colormaps["viridis"](1.0))
    assert ax.get_title(loc="left").startswith(f"Parameters of all {len(foms)} trials with a FoM")
    assert "axes: full search ranges" in ax.get_title(loc="left")
    assert ax.get_xticklabels()[0].get_text() == "--lr\n(log)"


def test_every_trial_with_a_fom_is_drawn_up_to_the_limit() -> None:
    trials = [trial(n, n / 100, **{"--y": n % 3}) for n in range(1, 41)]
    data = _plots.parallel_axes(trials)
    assert [t.id for t in data.trials] == list(range(1, 41))
    assert len(_plots.parallel_axes(trials, top=7).trials) == 7
    assert _plots.PARALLEL_TOP >= 500


def test_the_best_n_stay_on_the_full_ranges_and_the_title_says_so(finished_run: Path) -> None:
    trials = hyperdeme.read_journal(finished_run)
    history = read_history(finished_run)
    every = _plots.parallel_axes(trials, history=history)
    best = _plots.parallel_axes(trials, top=3, history=history)
    assert best.trials == every.trials[:3]
    assert best.rows == every.rows[:3]  # the same places: the axes did not shrink
    assert best.ticks == every.ticks
    title = (
        _plots.parallel_coordinates(trials, top=3, history=history).axes[0].get_title(loc="left")
    )
    assert title.startswith(f"Parameters of the best 3 of {every.total} trials with a FoM")


def test_without_a_recorded_space_the_axes_span_the_values_seen_and_say_so() -> None:
    trials = [trial(1, 0.1, **{"--lr": 0.2}), trial(2, 0.2, **{"--lr": 0.4}), trial(3, 0.3)]
    data = _plots.parallel_axes(trials)
    assert data.scales == ["seen", "seen"]
    assert data.rows[0][0] == 0.0
    assert data.rows[2][0] == 1.0
    assert math.isnan(data.rows[2][1])
    title = _plots.parallel_coordinates(trials).axes[0].get_title(loc="left")
    assert "values the trials had (no search space recorded)" in title


def test_stopped_trials_are_dashed_lines_in_the_parallel_plot() -> None:
    trials = [trial(1, 0.1), trial(2, 0.2, "stopped"), trial(3, math.inf, "failed")]
    ax = _plots.parallel_coordinates(trials).axes[0]
    styles = {
        line.get_label(): line.get_linestyle()
        for line in ax.get_lines()
        if line.get_label().startswith("trial ")
    }
    assert styles == {"trial 1": "-", "trial 2": "--"}


# -- best so far ----------------------------------------------------------------------------


@pytest.mark.parametrize(("high", "scale"), [(10.0, "linear"), (10.5, "log")])
def test_best_so_far_is_logarithmic_past_a_decade_and_says_so(high: float, scale: str) -> None:
    trials = [trial(1, high), trial(2, 1.0)]
    for plot in (_plots.best_over_trials, _plots.best_over_time, _plots.fom_per_trial):
        ax = plot(trials).axes[0]
        assert ax.get_yscale() == scale
        assert ax.get_ylabel().endswith(f"(lower is better; {scale} scale)")


@pytest.fixture(scope="module")
def resumed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random search of 4 trials, then resumed to 8: a ``resumed`` record in between."""
    directory = tmp_path_factory.mktemp("resumed")
    experiment = write(
        directory,
        f"""
command = "{sys.executable} train.py"
name = "resumed"
[evaluator]
src_path = "{HERE}"
run_path = "run"
[optimizer]
type = "random"
num_iters = 4
seed = 1
[params."--lr"]
range = [1e-4, 1.0]
log = true
[params."--optimizer"]
values = ["sgd", "adam"]
""",
    )
    assert invoke("run", experiment, "--quiet").code == 0
    outcome = invoke("run", experiment, "--quiet", "--resume", "--max-evals", "8")
    assert outcome.code == 0, outcome.err
    return directory / "run" / "resumed"


def test_a_resume_is_found_in_the_journal(resumed_run: Path) -> None:
    records = [json.loads(line) for line in (resumed_run / "trials.jsonl").read_text().splitlines()]
    at = next(n for n, r in enumerate(records) if r["type"] == "resumed")
    before = [r for r in records[:at] if r["type"] == "trial"]
    after = [r for r in records[at:] if r["type"] == "trial"]
    (pause,) = read_history(resumed_run).pauses
    assert pause.finished_before == len(before) == 4
    assert pause.stopped == max(r["ended"] for r in before)
    assert pause.resumed == min(r["started"] for r in after)
    assert pause.resumed > pause.stopped


def test_a_trial_the_stop_cancelled_and_the_resume_ran_again_counts_after_it(
    tmp_path: Path,
) -> None:
    """As in the journal of a stopped run: trial 2 cancelled by the stop, its rerun after
    the ``resumed`` record is its final record, so it finished after the resume."""
    records: list[dict[str, object]] = [
        {"schema": 2, "type": "experiment", "fingerprint": {"direction": "minimize"}}
    ]
    ends = {1: ("ok", 0.5, 10.0, 11.0), 2: ("cancelled", math.inf, 10.5, 12.0)}
    for n, (status, fom, started, ended) in ends.items():
        records.append({"schema": 2, "type": "started", "id": n, "genes": {}, "info": {}})
        done = hyperdeme.Trial(
            id=n, params={}, fom=fom, status=Status(status), started=started, ended=ended
        )
        records.append({"schema": 2, "type": "trial", **done.to_json()})
    records.append({"schema": 2, "type": "resumed", "finished": 1, "interrupted": []})
    rerun = hyperdeme.Trial(id=2, params={}, fom=0.4, started=50.0, ended=51.0)
    records.append({"schema": 2, "type": "trial", **rerun.to_json()})
    (tmp_path / "trials.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (pause,) = read_history(tmp_path).pauses
    assert (pause.stopped, pause.resumed, pause.finished_before) == (12.0, 50.0, 1)


def test_the_pause_of_a_resume_is_marked_on_best_so_far(resumed_run: Path) -> None:
    trials = hyperdeme.read_journal(resumed_run)
    history = read_history(resumed_run)
    ax = _plots.best_over_time(trials, history=history).axes[0]
    (shade,) = ax.patches
    assert shade.get_label().startswith("stopped until resumed")
    assert ax.texts[0].get_text().startswith("paused ")
    ax = _plots.best_over_trials(trials, history=history).axes[0]
    marks = [line for line in ax.get_lines() if line.get_label() == "resumed here"]
    assert [list(line.get_xdata()) for line in marks] == [[4.5, 4.5]]
    # without a resume, nothing is marked
    assert not _plots.best_over_time(trials).axes[0].patches


def paused_run(pause: float) -> tuple[list[hyperdeme.Trial], History]:
    """Four trials of a second each from t=1000, a pause of ``pause`` s, four more."""
    resumed = 1004.0 + pause
    trials = [
        hyperdeme.Trial(id=k + 1, params={}, fom=10.0 - k, started=1000.0 + k, ended=1001.0 + k)
        for k in range(4)
    ] + [
        hyperdeme.Trial(
            id=k + 5, params={}, fom=6.0 - k, started=resumed + k, ended=resumed + k + 1
        )
        for k in range(4)
    ]
    return trials, History(pauses=[Pause(stopped=1004.0, resumed=resumed, finished_before=4)])


def test_a_short_pause_is_drawn_to_scale() -> None:
    trials, history = paused_run(2.0)
    ax = _plots.best_over_time(trials, history=history).axes[0]
    (shade,) = ax.patches
    assert (shade.get_x(), shade.get_x() + shade.get_width()) == pytest.approx((4.0, 6.0))
    (line,) = [line for line in ax.get_lines() if line.get_label() == "best FoM so far"]
    assert list(line.get_xdata()) == pytest.approx([1, 2, 3, 4, 7, 8, 9, 10])
    assert ax.get_xlabel() == "seconds since the first trial started"
    assert [text.get_text() for text in ax.texts] == ["paused 2 s"]


def test_a_pause_longer_than_the_run_is_cut_short_and_says_so() -> None:
    """Resumed 11.6 days later: the eight seconds of running keep the plot's width, the
    pause is a gap of 3 % of them (0.24 s), labelled with its real length."""
    trials, history = paused_run(1e6)
    ax = _plots.best_over_time(trials, history=history).axes[0]
    (shade,) = ax.patches
    assert (shade.get_x(), shade.get_x() + shade.get_width()) == pytest.approx((4.0, 4.24))
    (line,) = [line for line in ax.get_lines() if line.get_label() == "best FoM so far"]
    assert list(line.get_xdata()) == pytest.approx([1, 2, 3, 4, 5.24, 6.24, 7.24, 8.24])
    assert ax.get_xlabel() == "seconds since the first trial started (pauses cut short)"
    assert shade.get_label() == "stopped until resumed (not to scale)"
    assert [text.get_text() for text in ax.texts] == ["paused 11.6 d"]


# -- the page -------------------------------------------------------------------------------


def rows(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="\w+" data-trial="(\d+)">', page)]


@pytest.mark.parametrize(
    ("direction", "order"), [("minimize", [6, 1, 2, 4, 3, 5]), ("maximize", [1, 6, 4, 2, 3, 5])]
)
def test_the_table_is_sorted_by_fom_best_first_trials_without_one_last(
    direction: str, order: list[int]
) -> None:
    trials = [
        trial(1, 0.5),
        trial(2, 0.18, "stopped"),
        trial(3, math.inf, "failed"),
        trial(4, 0.9, "stopped"),
        trial(5, math.inf, "cancelled"),
        trial(6, 0.3),
    ]
    page = render_html(title="t", summary=[], images={}, trials=trials, direction=direction)  # type: ignore[arg-type]
    assert rows(page) == order
    better = "lower" if direction == "minimize" else "higher"
    assert f'<p id="direction">FoM: {better} is better.</p>' in page


def test_the_page_states_each_objectives_direction() -> None:
    page = render_html(
        title="t",
        summary=[],
        images={},
        trials=[],
        objectives={"loss": "minimize", "accuracy": "maximize"},
    )
    assert (
        "Objectives (the FoM is the first): loss: lower is better; "
        "accuracy: higher is better." in page
    )


def test_the_columns_are_explained(finished_run: Path) -> None:
    """The shared run's program prints ``FoM: x``: its metric is named FoM, so the table
    has ``metric FoM`` beside ``FoM``; the note says what each is."""
    page = render_html(title="t", summary=[], images={}, trials=read_run(finished_run).trials)
    assert "<th>metric FoM</th>" in page
    note = re.search(r'<p class="note">(.*?)</p>', page, re.S)
    assert note is not None
    text = " ".join(note.group(1).split())
    assert "<b>FoM</b>: the figure of merit the search ranks trials by" in text
    assert "<b>metric NAME</b>: the last value of NAME the program printed" in text
    assert "Sorted by FoM, best first" in text


def test_a_failed_trials_error_is_in_the_table_as_text() -> None:
    failed = hyperdeme.Trial(
        id=1, params={"--x": 1}, status=Status.FAILED, error="boom $\\foo{$ _^% <b>x</b>\n" * 9
    )
    page = render_html(title="t", summary=[], images={}, trials=[failed])
    cell = re.search(r'<td class="error" title="([^"]*)">([^<]*)</td>', page)
    assert cell is not None
    assert cell.group(1).startswith("boom $\\foo{$ _^% &lt;b&gt;x&lt;/b&gt;\n")
    assert cell.group(2).startswith("boom $\\foo{$ _^% &lt;b&gt;x&lt;/b&gt; boom")
    assert cell.group(2).endswith("...")


# -- where it is written, and what text it holds -------------------------------------------


@pytest.fixture
def read_only_run(finished_run: Path, tmp_path: Path) -> Path:
    """A copy of the shared run on a read-only bind mount (root: CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root (CI runs as root)")
    copy = tmp_path / "run"
    copy.mkdir()
    (copy / "trials.jsonl").write_bytes((finished_run / "trials.jsonl").read_bytes())
    subprocess.run(["mount", "--bind", copy, copy], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", copy], check=True)
        assert not os.access(copy, os.W_OK)
        yield copy
    finally:
        subprocess.run(["umount", copy], check=True)


@pytest.mark.parametrize("option", ["--output", "--output-dir", "-o"])
def test_a_read_only_run_directory_reports_elsewhere(
    read_only_run: Path, tmp_path: Path, option: str
) -> None:
    out = tmp_path / "out"
    outcome = invoke("report", read_only_run, option, out)
    assert outcome.code == 0, outcome.err
    assert (out / "report.html").is_file()
    assert sorted(p.name for p in out.glob("*.png")) == [
        "best_over_time.png",
        "best_over_trials.png",
        "fom_per_trial.png",
        "parallel_coordinates.png",
    ]
    assert os.listdir(read_only_run) == ["trials.jsonl"]


HOSTILE = "$\\foo{$ _^% a$b$"


def test_any_text_in_names_values_and_errors_reports(tmp_path: Path) -> None:
    """An experiment named, a flag, its values and a failed trial's error holding
    matplotlib's math-text characters: every PNG is drawn, the page shows the text."""
    run = tmp_path / HOSTILE
    run.mkdir()
    header = {
        "schema": 2,
        "type": "experiment",
        "fingerprint": {
            "space": {
                "parameters": [
                    {"flag": f"--{HOSTILE}", "values": ["_^%", HOSTILE, "$"]},
                    {"flag": "--lr", "low": 1e-3, "high": 1.0, "integer": False, "log": True},
                ],
                "conditions": [],
            },
            "direction": "minimize",
        },
    }
    lines = [header]
    values = ["_^%", HOSTILE, "$", "_^%"]
    for n, value in enumerate(values, 1):
        params = {f"--{HOSTILE}": value, "--lr": 10.0**-n}
        lines.append({"schema": 2, "type": "started", "id": n, "genes": params, "info": {}})
        done = hyperdeme.Trial(
            id=n,
            params=params,
            fom=1.0 / n if n < 4 else math.inf,
            status=Status.OK if n < 3 else Status.STOPPED if n == 3 else Status.FAILED,
            started=1000.0 + n,
            ended=1001.0 + n,
            error=f"error {HOSTILE}" if n == 4 else "",
        )
        lines.append({"schema": 2, "type": "trial", **done.to_json()})
    (run / "trials.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    outcome = invoke("report", run, "--output", tmp_path / "out")
    assert outcome.code == 0, outcome.err
    for name in ("best_over_time", "best_over_trials", "fom_per_trial", "parallel_coordinates"):
        image = matplotlib_image.imread(tmp_path / "out" / f"{name}.png")
        assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 10  # not blank
    page = (tmp_path / "out" / "report.html").read_text()
    escaped = HOSTILE  # nothing in it is HTML
    assert f"<h1>hyperdeme report: {escaped}</h1>" in page
    assert f'title="error {escaped}">error {escaped}</td>' in page
    figure = _plots.parallel_coordinates(read_run(run).trials, history=read_history(run))
    figure.canvas.draw()
    ax = figure.axes[0]
    texts = [ax.get_xticklabels()[0], *ax.texts]
    shown = []
    for text in texts:
        displayed, is_math = text._preprocess_math(text.get_text())
        assert is_math is False
        shown.append(displayed)
    assert shown[:4] == [f"--{HOSTILE}", "_^%", HOSTILE, "$"]


def test_a_wide_table_scrolls_in_its_box_not_the_page(tmp_path: Path) -> None:
    """40 flags with long values: in headless chromium the page is no wider than the window
    (the page's script records both widths), the table's box is what scrolls."""
    run = tmp_path / "wide"
    run.mkdir()
    flags = {f"--a-rather-long-flag-name-{n}": f"value-{n}-" + "x" * 20 for n in range(40)}
    trials = [hyperdeme.Trial(id=n, params=flags, fom=n / 10, ended=10.0 + n) for n in (1, 2)]
    (run / "trials.jsonl").write_text("".join(json.dumps(t.to_json()) + "\n" for t in trials))
    assert invoke("report", run, "-o", tmp_path / "out").code == 0
    page_uri = (tmp_path / "out" / "report.html").as_uri()
    dom = dump_dom(page_uri, tmp_path / "profile", "--window-size=1000,800")
    page = re.search(r'data-page-width="(\d+)"', dom)
    window = re.search(r'data-window-width="(\d+)"', dom)
    assert page is not None, dom[:500]
    assert window is not None
    assert 0 < int(page.group(1)) <= int(window.group(1))
    assert dom.count("<th>--a-rather-long-flag-name-") == 40
