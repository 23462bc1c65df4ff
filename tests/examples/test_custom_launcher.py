"""The guide's "write your own launcher" example, run for real: registered in-process,
and installed as a package from an experiment file."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

import hyperdeme
from plugin_support import install_plugin, plugin_environ

EXAMPLE = Path(__file__).parents[2] / "examples" / "custom_launcher" / "nice_launcher.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nice_launcher", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


async def test_a_registered_launcher_runs_the_trials(tmp_path: Path) -> None:
    load_example()
    base = os.nice(0)
    # the program's FoM is the niceness it runs at, plus --x
    code = "import os, sys; print('FoM:', os.nice(0) + float(sys.argv[1][4:]))"
    program = f"{sys.executable} -c {shlex.quote(code)}"
    evaluator = hyperdeme.Evaluator(
        program, launcher="nice", launcher_options={"niceness": 7},
        run_path=str(tmp_path / "run"), src_path=str(tmp_path),
    )  # fmt: skip
    result = await hyperdeme.optimize(
        hyperdeme.RandomOptimizer(evaluator, num_iters=3, seed=1, name="nice"),
        hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]),
    )
    assert [t.status for t in result.trials] == [hyperdeme.Status.OK] * 3
    for trial in result.trials:
        assert trial.fom == pytest.approx(min(base + 7, 19) + trial.params["--x"])


def test_its_options_are_checked_when_an_evaluator_names_it() -> None:
    load_example()
    with pytest.raises(hyperdeme.ConfigError, match=r"niceness'\] must be an integer from 0"):
        hyperdeme.Evaluator("true", launcher="nice", launcher_options={"niceness": 40})
    with pytest.raises(hyperdeme.ConfigError, match=r"niceness'\] must be an integer from 0"):
        hyperdeme.Evaluator("true", workload_manager="nice", launcher_options={"niceness": "x"})


def test_an_unknown_key_is_refused_with_a_suggestion() -> None:
    load_example()
    with pytest.raises(hyperdeme.ConfigTypeError) as caught:
        hyperdeme.Evaluator("true", launcher="nice", launcher_options={"nicenes": 5})
    assert str(caught.value) == (
        "launcher 'nice' got unknown launcher_options key(s) 'nicenes' (did you mean "
        "'niceness'?); allowed: niceness."
    )


def test_installed_as_a_package_it_runs_an_experiment_file(tmp_path: Path) -> None:
    project = tomllib.loads((EXAMPLE.parent / "pyproject.toml").read_text())
    points = project["project"]["entry-points"]
    assert points == {"hyperdeme.launchers": {"nice": "nice_launcher:NiceLauncher"}}
    site = install_plugin(tmp_path, "nice_launcher", EXAMPLE.read_text(), points)
    code = "import os, sys; print('FoM:', os.nice(0) + float(sys.argv[1][4:]))"
    (tmp_path / "experiment.toml").write_text(
        f"""
command = {json_string(f"{sys.executable} -c {shlex.quote(code)}")}
name = "nice"
[evaluator]
launcher = "nice"
launcher_options = {{ niceness = 6 }}
[optimizer]
type = "random"
num_iters = 2
[params."--x"]
range = [0.0, 1.0]
"""
    )
    done = subprocess.run(
        [sys.executable, "-m", "hyperdeme", "run", "experiment.toml"],
        cwd=tmp_path, env=plugin_environ(site), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    trials = hyperdeme.read_journal(tmp_path / "run" / "nice")
    assert [t.status for t in trials] == [hyperdeme.Status.OK] * 2
    for trial in trials:
        assert trial.fom == pytest.approx(min(os.nice(0) + 6, 19) + trial.params["--x"])


def json_string(text: str) -> str:
    """``text`` as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text)
