"""Plug-ins installed as packages of their own, used by the command: ``launcher = "mine"``,
``[evaluator.early_stopping] type = "stop_at"``, and ``hyperdeme --list-plugins``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme._core._plugins import EARLY_STOPPING, LAUNCHERS
from plugin_support import MODULES, install_plugin, module_source, plugin_environ

from .conftest import invoke, write


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    tmp = tmp_path_factory.mktemp("plugins")
    return [
        install_plugin(
            tmp, "hd-mark", module_source("mark_launcher"),
            {LAUNCHERS: {"mine": "hd_mark:MarkLauncher"}},
        ),
        install_plugin(
            tmp, "hd-stop", module_source("stop_rule"),
            {EARLY_STOPPING: {"stop_at": "hd_stop:StopAt"}},
        ),
        install_plugin(
            tmp, "hd-broken", module_source("broken"),
            {LAUNCHERS: {"broken": "hd_broken:Launcher"},
             EARLY_STOPPING: {"broken": "hd_broken:R"}},
        ),
    ]  # fmt: skip


def hyperdeme_command(
    sites: list[Path], *argv: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m hyperdeme <argv>`` with the plug-ins installed."""
    return subprocess.run(
        [sys.executable, "-m", "hyperdeme", *argv],
        cwd=cwd, env=plugin_environ(*sites), capture_output=True, text=True, check=False,
    )  # fmt: skip


def experiment(evaluator: str) -> str:
    return f"""
command = {json.dumps(f"{sys.executable} {MODULES / 'steps.py'}")}
name = "plugged"
[evaluator]
{evaluator}
[optimizer]
type = "random"
num_iters = 3
seed = 4
[params."--x"]
range = [0.0, 1.0]
"""


def test_list_plugins_shows_each_group_s_plugins_and_built_ins(sites: list[Path]) -> None:
    done = hyperdeme_command(sites, "--list-plugins")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "hyperdeme.launchers:",
        "  built-in: local, slurm, pbs, k8s, urika",
        "  broken = hd_broken:Launcher  (from hd-broken 1.2.3)",
        "  mine = hd_mark:MarkLauncher  (from hd-mark 1.2.3)",
        "hyperdeme.strategies:",
        "  built-in: random, grid, genetic, pbt, cmaes, optuna",
        "  plug-ins: none installed",
        "hyperdeme.early_stopping:",
        "  built-in: asha",
        "  broken = hd_broken:R  (from hd-broken 1.2.3)",
        "  stop_at = hd_stop:StopAt  (from hd-stop 1.2.3)",
    ]
    assert done.stderr == ""  # the broken plug-in was not imported


def test_list_plugins_is_in_the_help_and_marks_a_plugin_a_built_in_shadows(
    tmp_path: Path,
) -> None:
    assert "--list-plugins" in invoke("--help").out
    site = install_plugin(
        tmp_path, "hd-shadow", module_source("mark_launcher"),
        {LAUNCHERS: {"local": "hd_shadow:MarkLauncher"}},
    )  # fmt: skip
    done = hyperdeme_command([site], "--list-plugins")
    assert done.returncode == 0, done.stderr
    assert (
        "  local = hd_shadow:MarkLauncher  (from hd-shadow 1.2.3)  "
        "[not used: a built-in has this name]"
    ) in done.stdout.splitlines()


def test_an_experiment_file_runs_its_trials_through_an_installed_launcher(
    sites: list[Path], tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    settings = f'launcher = "mine"\nlauncher_options = {{ marks = "{marks}" }}'
    write(tmp_path, experiment(settings))
    done = hyperdeme_command(sites, "run", "experiment.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    trials = hyperdeme.read_journal(tmp_path / "run" / "plugged")
    assert [t.status for t in trials] == [hyperdeme.Status.OK] * 3
    assert sorted(p.name for p in marks.iterdir()) == ["1-1", "2-1", "3-1"]
    assert "steps.py --x=" in (marks / "1-1").read_text()


def test_an_installed_launcher_refuses_an_unknown_option(sites: list[Path], tmp_path: Path) -> None:
    write(tmp_path, experiment('launcher = "mine"\nlauncher_options = { mraks = "/tmp" }'))
    done = hyperdeme_command(sites, "run", "experiment.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert (
        "launcher 'mine' got unknown launcher_options key(s) 'mraks' (did you mean 'marks'?)"
        in (done.stderr)
    )


def test_an_experiment_file_uses_an_installed_early_stopping_rule(
    sites: list[Path], tmp_path: Path
) -> None:
    write(tmp_path, experiment("[evaluator.early_stopping]\ntype = 'stop_at'\nat_step = 2"))
    done = hyperdeme_command(sites, "run", "experiment.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    trials = hyperdeme.read_journal(tmp_path / "run" / "plugged")
    stopped = hyperdeme.Status.STOPPED
    assert [t.status for t in trials] == [hyperdeme.Status.OK, stopped, stopped]
    assert [sorted(t.intermediate) for t in trials] == [[1, 2, 3, 4, 5], [1, 2], [1, 2]]


def test_an_installed_rule_checks_its_settings(sites: list[Path], tmp_path: Path) -> None:
    write(tmp_path, experiment("[evaluator.early_stopping]\ntype = 'stop_at'\nat_step = 0"))
    done = hyperdeme_command(sites, "run", "experiment.toml", "--dry-run", cwd=tmp_path)
    assert done.returncode == 2
    assert "at_step must be >= 1, got 0" in done.stderr


@pytest.mark.parametrize(
    ("evaluator", "key", "target"),
    [
        ('launcher = "broken"', "evaluator", "hd_broken:Launcher"),
        ("[evaluator.early_stopping]\ntype = 'broken'", "evaluator.early_stopping.type",
         "hd_broken:R"),
    ],
)  # fmt: skip
def test_a_broken_plugin_is_a_usage_error_naming_it_and_its_package(
    sites: list[Path], tmp_path: Path, evaluator: str, key: str, target: str
) -> None:
    write(tmp_path, experiment(evaluator))
    done = hyperdeme_command(sites, "run", "experiment.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"key '{key}'" in done.stderr
    assert f"plug-in 'broken' ({target}, from hd-broken) failed to import: ImportError: this" in (
        done.stderr
    )


def test_an_unknown_rule_lists_built_in_and_installed_rules(
    sites: list[Path], tmp_path: Path
) -> None:
    write(tmp_path, experiment("[evaluator.early_stopping]\ntype = 'median'"))
    done = hyperdeme_command(sites, "run", "experiment.toml", "--dry-run", cwd=tmp_path)
    assert done.returncode == 2
    assert "key 'evaluator.early_stopping.type': got 'median'; allowed: asha, broken, stop_at." in (
        done.stderr
    )


def test_a_plugin_rule_must_be_an_early_stopping_subclass(tmp_path: Path) -> None:
    site = install_plugin(
        tmp_path,
        "hd-notrule",
        "NOT_A_RULE = 1\n",
        {EARLY_STOPPING: {"bad": "hd_notrule:NOT_A_RULE"}},
    )
    write(tmp_path, experiment("[evaluator.early_stopping]\ntype = 'bad'"))
    done = hyperdeme_command([site], "run", "experiment.toml", "--dry-run", cwd=tmp_path)
    assert done.returncode == 2
    assert "(hd_notrule:NOT_A_RULE) names 1, which is not a hyperdeme.EarlyStopping subclass" in (
        done.stderr
    )
