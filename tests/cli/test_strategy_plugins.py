"""``[optimizer] type = "coordinate"``: a strategy installed as its own package (entry point
``hyperdeme.strategies``), run from an experiment file; its settings checked before any run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme._core._plugins import plugins
from plugin_support import install_plugin

from .conftest import invoke, write

EXAMPLE = Path(__file__).parents[2] / "examples" / "custom_strategy"
SOURCE = Path(hyperdeme.__file__).parents[1]
PLUGIN = (
    (EXAMPLE / "coordinate.py").read_text()
    + """

NOT_A_STRATEGY = 42


def no_strategy(space: hyperdeme.Params, *, seed: int | None) -> object:
    return "a string"
"""
)
ENTRY_POINTS = {
    "hyperdeme.strategies": {
        "coordinate": "coordinate_search:CoordinateSearch",
        "constant": "coordinate_search:NOT_A_STRATEGY",
        "stringy": "coordinate_search:no_strategy",
        "missing": "coordinate_search:NoSuchThing",
    }
}


def experiment(optimizer: str, *, name: str = "walk") -> str:
    return f"""
command = "{sys.executable} bowl.py"
name = "{name}"

[evaluator]
src_path = "{EXAMPLE}"
run_path = "run"
num_parallel_evals = 2

[optimizer]
{optimizer}

[params."--x"]
default = -1.0
range = [-2.0, 2.0]

[params."--y"]
default = 2.0
range = [-1.0, 3.0]

[params."--act"]
default = "relu"
values = ["relu", "tanh"]
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plug-in's package, installed by pip into a directory of its own."""
    return install_plugin(
        tmp_path_factory.mktemp("plugin"), "coordinate-search", PLUGIN, ENTRY_POINTS
    )


@pytest.fixture
def installed(site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The plug-in visible to this process, as if installed; forgotten afterwards."""
    monkeypatch.syspath_prepend(str(site))
    plugins.cache_clear()
    yield site
    plugins.cache_clear()
    sys.modules.pop("coordinate_search", None)


def hyperdeme_command(site: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hyperdeme", *argv],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{SOURCE}"},
        capture_output=True,
        text=True,
        timeout=100,
    )


def test_an_installed_strategy_runs_from_an_experiment_file(site: Path, tmp_path: Path) -> None:
    settings = 'type = "coordinate"\nmax_evals = 11\nstep = 0.5\nseed = 3'
    write(tmp_path, experiment(settings))
    ran = hyperdeme_command(site, tmp_path, "run", "experiment.toml")
    assert ran.returncode == 0, ran.stderr
    assert "trials: 11" in ran.stdout
    journal = tmp_path / "run" / "walk" / "trials.jsonl"
    header = json.loads(journal.read_text().splitlines()[0])
    assert header["fingerprint"]["strategy"] == {
        "type": "coordinate_search.CoordinateSearch",
        "settings": {"max_evals": 11, "step": 0.5},
    }
    assert header["fingerprint"]["seed"] == 3
    trials = hyperdeme.read_journal(journal)
    assert [t.status for t in trials] == [hyperdeme.Status.OK] * 11
    assert min(t.fom for t in trials) < 11.29  # better than the defaults


def test_a_bad_setting_stops_the_command_before_anything_runs(site: Path, tmp_path: Path) -> None:
    write(tmp_path, experiment('type = "coordinate"\nstep = 3.0'))
    ran = hyperdeme_command(site, tmp_path, "run", "experiment.toml")
    assert ran.returncode == 2
    assert "key 'optimizer': coordinate search needs max_evals >= 1 and step in (0, 1]" in (
        ran.stderr
    )
    assert not (tmp_path / "run").exists()


def test_an_unknown_type_lists_the_built_ins_and_the_installed_plug_ins(
    installed: Path, tmp_path: Path
) -> None:
    outcome = invoke("run", write(tmp_path, experiment('type = "coordinates"')), "--dry-run")
    assert outcome.code == 2
    assert (
        "key 'optimizer.type': got 'coordinates'; allowed: random, grid, genetic, pbt, cmaes, "
        "optuna, or a strategy plug-in (entry-point group 'hyperdeme.strategies'; installed: "
        "constant, coordinate, missing, stringy)."
    ) in outcome.err


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        (
            'type = "coordinate"\nstepz = 0.5',
            "optimizer.stepz",
            "unknown setting of the strategy plug-in 'coordinate'; did you mean 'step'? "
            "allowed: max_evals, step, seed, verbose, log_fn, backend, reproducible.",
        ),
        ('type = "coordinate"\nname = "x"', "optimizer.name", "top of the file"),
        (
            'type = "constant"',
            "optimizer.type",
            "the strategy plug-in 'constant' (coordinate_search:NOT_A_STRATEGY) names 42, "
            "not a Strategy subclass nor a factory of strategies.",
        ),
        (
            'type = "stringy"',
            "optimizer",
            "strategy must build a hyperdeme.Strategy, but functools.partial(<function no_strategy",
        ),
        ('type = "missing"', "optimizer.type", "'missing' (coordinate_search:NoSuchThing, from"),
    ],
)
def test_each_plug_in_mistake_names_its_key_before_anything_runs(
    installed: Path, tmp_path: Path, table: str, key: str, problem: str
) -> None:
    path = write(tmp_path, experiment(table))
    outcome = invoke("run", path, "--dry-run")
    assert outcome.code == 2
    assert f"{path}: key {key!r}: " in outcome.err
    assert problem in outcome.err
    assert not (tmp_path / "run").exists()


def test_the_optimizers_own_settings_are_checked_too(installed: Path, tmp_path: Path) -> None:
    path = write(tmp_path, experiment('type = "coordinate"\nseed = -1'))
    outcome = invoke("run", path, "--dry-run")
    assert outcome.code == 2
    # 'optimizer.seed' once ConfigError carries the setting's name (issue 16.4), else 'optimizer'
    assert re.search(rf"{re.escape(str(path))}: key 'optimizer(\.seed)?': seed must", outcome.err)
    assert not (tmp_path / "run").exists()


def test_a_dry_run_shows_the_plug_ins_first_points(installed: Path, tmp_path: Path) -> None:
    path = write(tmp_path, experiment('type = "coordinate"\nmax_evals = 5\nseed = 1'))
    outcome = invoke("run", path, "--dry-run")
    assert outcome.code == 0, outcome.err
    assert "optimizer: Optimizer, 5 trials" in outcome.out
    assert "bowl.py --x=-1.0 --y=2.0 --act=relu" in outcome.out
    assert not (tmp_path / "run").exists()
