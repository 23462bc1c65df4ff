"""The benchmark harness's helpers: fast, no timing assertions, no peers needed."""

from __future__ import annotations

import importlib
import json
import math
import os
import random
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks import _harness as h
from benchmarks import learning_curve
from benchmarks.__main__ import parse, selected
from benchmarks._peers import ENTRIES
from benchmarks._problems import PROBLEMS, SHIFTS
from benchmarks._spaces import Cond, Dim, Space
from benchmarks._streaming import run_curves, run_optuna_curves
from benchmarks.quality import config

import hyperdeme


def bench_extra(module: str) -> None:
    """Import ``module`` of the bench extra: skipped without it on a developer's machine,
    failed under CI (``CI`` set), where a skip would hide that the test never runs."""
    try:
        importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install the bench extra (pip install -e .[bench]): no {module}")
        pytest.skip(f"needs the bench extra: no {module}")


def test_interleave_rotates_the_order_each_repeat() -> None:
    calls: list[str] = []

    def runner(name: str) -> object:
        return lambda: calls.append(name) or float(len(calls))

    values = h.interleave({n: runner(n) for n in "ABC"}, repeats=3)  # type: ignore[misc]
    assert "".join(calls) == "ABCBCACAB"
    assert {n: len(v) for n, v in values.items()} == {"A": 3, "B": 3, "C": 3}
    assert values["A"] == [1.0, 6.0, 8.0]


def test_median_and_quartiles() -> None:
    assert h.median([3.0, 1.0, 2.0]) == 2.0
    assert math.isnan(h.median([]))
    assert h.quartiles([1.0, 2.0, 3.0, 4.0, 5.0]) == (2.0, 3.0, 4.0)
    assert h.quartiles([7.0]) == (7.0, 7.0, 7.0)


def test_slope_of_a_line() -> None:
    assert h.slope([0, 1, 2, 3], [5, 7, 9, 11]) == pytest.approx(2.0)
    assert math.isnan(h.slope([1], [1]))


def test_fmt_and_verdict() -> None:
    assert h.fmt(0.123456) == "0.123"
    assert h.fmt(1234.5) == "1234"  # no decimals past 3 significant digits
    assert h.fmt(42.0) == "42"
    assert h.fmt(None) == "-"
    assert h.fmt(math.nan) == "-"
    assert h.verdict(1.3, 1.2) == "yes"
    assert h.verdict(0.9, 1.0, higher_is_better=False) == "yes"
    assert h.verdict(math.nan, 1.0) == "-"


def test_table_renders_markdown() -> None:
    table = h.Table("t", ["a", "bb"], notes=["n"])
    table.add("x", 1.5)
    lines = table.render().splitlines()
    assert lines[0] == "### t"
    assert lines[2:5] == ["| a | bb   |", "|---|------|", "| x | 1.50 |"]
    assert lines[-1] == "- n"


def test_save_writes_json_without_infinities(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    h.save(path, {"a": math.inf, "b": [1.0, math.nan]}, [h.Table("t", ["c"])])
    assert json.loads(path.read_text()) == {"a": "inf", "b": [1.0, "nan"]}
    assert path.with_suffix(".md").exists()


def test_selected_groups_and_names() -> None:
    assert selected("quality") == ["issue13-table", "quality-grid", "early-stopping", "pareto"]
    assert selected("quality-grid") == ["quality-grid"]
    assert selected("memory,throughput")[0] == "memory"
    with pytest.raises(SystemExit):
        selected("nonsense")


def test_quality_seeds_start_at_first_seed() -> None:
    assert config("quality-grid", False, parse(["--seeds", "3"])).seeds == (1, 2, 3)
    held_out = parse(["--seeds", "45", "--first-seed", "16"])
    assert config("quality-grid", False, held_out).seeds == tuple(range(16, 61))
    assert config("quality-grid", True, parse(["--first-seed", "4"])).seeds == (4, 5, 6)


SPACE = Space(
    (
        Dim("--opt", "choice", values=("sgd", "adam")),
        Dim("--momentum", "float", 0.0, 1.0),
        Dim("--lr", "float", 1e-4, 1.0, log=True),
        Dim("--layers", "int", 1, 4),
    ),
    (Cond("--momentum", "--opt", ("sgd",)),),
)


def test_active_drops_inactive_dependents() -> None:
    values = {"--opt": "adam", "--momentum": 0.5, "--lr": 0.1, "--layers": 2}
    assert "--momentum" not in SPACE.active(values)
    assert SPACE.active(values | {"--opt": "sgd"})["--momentum"] == 0.5


def test_decode_covers_the_ranges() -> None:
    rng = random.Random(0)
    seen = set()
    for _ in range(500):
        values = SPACE.decode([rng.random() for _ in SPACE.dims])
        assert 1e-4 <= values["--lr"] <= 1.0
        assert ("--momentum" in values) == (values["--opt"] == "sgd")
        seen.add(values["--layers"])
    assert seen == {1, 2, 3, 4}
    assert SPACE.decode([1.0, 1.0, 1.0, 1.0])["--layers"] == 4


def test_hyperdeme_space_agrees_on_what_is_active() -> None:
    params = SPACE.to_hyperdeme()
    for opt in ("sgd", "adam"):
        values = {"--opt": opt, "--momentum": 0.5, "--lr": 0.1, "--layers": 2}
        assert params.active(values) == SPACE.active(values)


class _FakeTrial:
    def suggest_categorical(self, name: str, values: list[object]) -> object:
        return values[0]

    def suggest_float(self, name: str, low: float, high: float, log: bool = False) -> float:
        return low

    def suggest_int(self, name: str, low: int, high: int) -> int:
        return high


def test_optuna_define_by_run_suggests_only_active() -> None:
    assert SPACE.suggest(_FakeTrial()) == {
        "--opt": "sgd", "--momentum": 0.0, "--lr": 1e-4, "--layers": 4
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_problems_evaluate_at_a_decoded_point(name: str) -> None:
    problem = PROBLEMS[name]
    if name == "sgd-digits":
        bench_extra("sklearn")
    value = problem.objective(problem.space.decode([0.3] * len(problem.space.dims)))
    assert math.isfinite(value)
    assert value >= -1e-9


@pytest.mark.parametrize("name", sorted(SHIFTS))
def test_shifted_optimum_is_zero_and_off_centre(name: str) -> None:
    problem = PROBLEMS[name]
    optimum = {f"--x{i}": s for i, s in enumerate(SHIFTS[name])}
    assert problem.objective(optimum) == pytest.approx(0.0, abs=1e-9)
    centre = {d.name: (d.low + d.high) / 2 for d in problem.space.dims}
    assert problem.objective(centre) > 1.0


def test_learning_curve_falls_to_its_final_loss() -> None:
    best = {"--lr": 3e-3, "--width": 64, "--wd": 1e-4, "--batch": 64}
    losses = learning_curve.curve(best)
    assert len(losses) == learning_curve.EPOCHS
    assert losses[0] > losses[-1]
    assert losses[-1] == pytest.approx(0.05, abs=0.01)


def test_future_entries_report_not_available() -> None:
    assert ENTRIES["hyperdeme-pbt"].missing()  # no problem here resumes checkpoints


def test_early_stopping_entries_run_on_learning_curves_only() -> None:
    for name in ("hyperdeme-random+asha", "hyperdeme-ga+asha", "optuna-tpe+hyperband"):
        entry = ENTRIES[name]
        assert not entry.missing()
        assert entry.applies(PROBLEMS["learning-curve"])
        assert not entry.applies(PROBLEMS["branin"])


def test_an_early_stopping_cell_spends_its_epoch_budget() -> None:
    problem = PROBLEMS["learning-curve"]
    run = run_curves(
        problem,
        lambda evaluator, trials, seed: hyperdeme.RandomOptimizer(
            evaluator, num_iters=trials, seed=seed
        ),
        10 * 27,
        3,
        early_stopping=hyperdeme.ASHA(max_steps=27),
        epoch_budget=10 * 27,
    )
    assert 10 * 27 <= run.epochs < 11 * 27
    assert run.trials > 10  # stopping early buys more candidates
    assert run.stopped == run.trials - len(run.foms) > 0
    assert ENTRIES["hyperdeme-random+asha"].run(problem, 10, 3) == run.foms


def test_optuna_pruners_prune_learning_curves() -> None:
    bench_extra("optuna")
    problem = PROBLEMS["learning-curve"]
    full = run_optuna_curves(problem, "random", "none", 30, 1)
    pruned = run_optuna_curves(problem, "random", "sha", 30, 1)
    assert (full.trials, full.epochs, full.stopped) == (30, 30 * 27, 0)
    assert pruned.trials == 30
    assert pruned.epochs < full.epochs
    assert pruned.stopped > 0
    assert len(ENTRIES["optuna-tpe+hyperband"].run(problem, 5, 1)) >= 1


@pytest.mark.timeout(120)
def test_the_streaming_launcher_gives_the_trials_the_program_gives(tmp_path: Path) -> None:
    """learning_curve.py run as a program through the local launcher, one slot, and the
    in-process streaming launcher: the same steps, statuses and FoMs, trial by trial."""
    problem = PROBLEMS["learning-curve"]
    rule = hyperdeme.ASHA(max_steps=27, reduction_factor=3)
    program = Path(learning_curve.__file__)
    source = tmp_path / "src"
    source.mkdir()
    evaluator = hyperdeme.Evaluator(
        shlex.join([sys.executable, str(program)]), workload_manager="local",
        run_path=str(tmp_path / "run"), src_path=str(source), early_stopping=rule,
    )  # fmt: skip
    optimizer = hyperdeme.RandomOptimizer(evaluator, num_iters=8, seed=4, name="curves")
    result = optimizer.optimize(problem.space.to_hyperdeme())

    def random_search(evaluator: hyperdeme.Evaluator, trials: int, seed: int) -> object:
        return hyperdeme.RandomOptimizer(evaluator, num_iters=trials, seed=seed)

    run = run_curves(problem, random_search, 8, 4, early_stopping=rule)
    by_process = [(t.status, t.steps, t.fom) for t in result.trials]
    assert [s for s, _, _ in by_process].count(hyperdeme.Status.STOPPED) == run.stopped > 0
    assert [fom for s, _, fom in by_process if s is hyperdeme.Status.OK] == run.foms
    assert sum(steps for _, steps, _ in by_process) == run.epochs


@pytest.mark.parametrize("name", ["hyperdeme-ga-crayai", "hyperdeme-ga-budget"])
def test_a_hyperdeme_cell_makes_exactly_the_budget(name: str) -> None:
    assert not ENTRIES[name].missing()
    foms = ENTRIES[name].run(PROBLEMS["branin"], 30, 1)
    assert len(foms) == 30


# ----------------------------------------------------------------------------- clean trees


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with one commit, as the harness's ROOT."""
    root = tmp_path / "repo"
    (root / "benchmarks" / "results").mkdir(parents=True)
    (root / "code.py").write_text("x = 1\n")
    (root / "benchmarks" / "results" / "old.json").write_text("{}\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    for who in ("AUTHOR", "COMMITTER"):
        env |= {f"GIT_{who}_NAME": "t", f"GIT_{who}_EMAIL": "t@example.com"}
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "one"]):
        subprocess.run(["git", *argv], cwd=root, env=env, check=True, capture_output=True)
    monkeypatch.setattr(h, "ROOT", root)
    return root


def test_a_clean_tree_is_measured_and_its_commit_recorded(repo: Path) -> None:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True)
    h.require_clean_tree(allow_dirty=False)
    git = h.machine_info("cmd")["git"]
    assert git == {"commit": head.stdout.strip(), "dirty": False, "changed": []}


def test_the_benchmarks_own_results_do_not_make_a_tree_dirty(repo: Path) -> None:
    (repo / "benchmarks" / "results" / "old.json").write_text('{"new": 1}\n')
    (repo / "benchmarks" / "results" / "new.md").write_text("| a |\n")
    h.require_clean_tree(allow_dirty=False)
    assert h.machine_info("cmd")["git"]["dirty"] is False


@pytest.mark.parametrize("change", ["modified", "untracked", "staged"])
def test_a_dirty_tree_is_refused_naming_what_changed(repo: Path, change: str) -> None:
    name = "code.py" if change != "untracked" else "new.py"
    (repo / name).write_text("x = 2\n")
    if change == "staged":
        subprocess.run(["git", "add", name], cwd=repo, check=True)
    with pytest.raises(SystemExit) as refused:
        h.require_clean_tree(allow_dirty=False)
    assert str(refused.value).startswith(
        f"scripts/bench: the working tree differs from its commit ({name}); "
    )
    assert "--allow-dirty" in str(refused.value)


def test_allow_dirty_measures_and_marks_the_result_loudly(repo: Path, tmp_path: Path) -> None:
    (repo / "code.py").write_text("x = 2\n")
    h.require_clean_tree(allow_dirty=True)
    machine = h.machine_info("cmd")
    assert machine["git"]["dirty"] is True
    assert machine["git"]["changed"] == ["code.py"]
    path = tmp_path / "r.json"
    h.save(path, {"machine": machine}, [h.Table("t", ["c"])])
    assert json.loads(path.read_text())["machine"]["git"]["dirty"] is True
    lines = path.with_suffix(".md").read_text().splitlines()
    assert lines[2].startswith("> **WARNING: measured from a dirty tree** (commit ")
    assert "code.py" in lines[2]
    assert "Not a result to quote." in lines[2]


def test_a_clean_result_has_no_warning(repo: Path, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    h.save(path, {"machine": h.machine_info("cmd")}, [h.Table("t", ["c"])])
    assert "WARNING" not in path.with_suffix(".md").read_text()


def test_scripts_bench_refuses_a_dirty_tree_before_measuring(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import benchmarks.__main__ as bench

    (repo / "code.py").write_text("x = 2\n")
    ran: list[str] = []
    monkeypatch.setattr(bench.importlib, "import_module", lambda name: ran.append(name))
    monkeypatch.setattr(sys, "argv", ["scripts/bench", "--only", "import"])
    with pytest.raises(SystemExit, match="the working tree differs from its commit"):
        bench.main()
    assert ran == []


@pytest.mark.parametrize("ci", ["", "true"])
def test_a_missing_bench_extra_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    monkeypatch.setenv("CI", ci)
    outcome = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(outcome, match="bench extra"):
        bench_extra("hyperdeme_no_such_module")
