"""hyperdeme run on a finite search space: it ends once every point ran, and says so."""

from __future__ import annotations

import sys
from pathlib import Path

import hyperdeme

from .conftest import HERE, invoke, write

SIX_POINTS = f"""
command = "{sys.executable} train.py"
name = "six"
[evaluator]
src_path = "{HERE}"
run_path = "run"
num_parallel_evals = 2
[optimizer]
type = "random"
num_iters = 20
seed = 2
[params."--optimizer"]
values = ["sgd", "adam"]
[params."--layers"]
values = [1, 2, 3]
"""


def test_a_run_ends_when_its_six_points_ran_and_prints_it(tmp_path: Path) -> None:
    outcome = invoke("run", write(tmp_path, SIX_POINTS))
    assert outcome.code == 0, outcome.err
    trials = hyperdeme.read_journal(tmp_path / "run" / "six")
    assert len(trials) == 6
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 6
    assert "the search space has 6 points; all 6 were evaluated" in outcome.out.splitlines()
