"""The guide's "write your own launcher" example, run for real."""

from __future__ import annotations

import importlib.util
import os
import shlex
import sys
from pathlib import Path
from types import ModuleType

import pytest

import hyperdeme

EXAMPLE = Path(__file__).parents[2] / "examples" / "custom_launcher" / "nice_launcher.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nice_launcher", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
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
