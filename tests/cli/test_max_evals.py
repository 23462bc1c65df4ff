"""``hyperdeme run --resume`` after raising the file's budget, and ``--max-evals N``.

Real runs of a tiny program (``python -S -c``: it prints its FoM), 40 then 60
trials: the first 40 journal lines stay as they were and no trial runs twice.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme._cli._experiment import load_experiment
from hyperdeme.strategies import EvaluationLimit

from .conftest import invoke, write

pytestmark = pytest.mark.timeout(300)

#: its FoM: a number made of its flags, whatever their form
PROGRAM = "import sys; print('FoM:', sum(map(ord, ' '.join(sys.argv[1:]))) % 97)"


def experiment(optimizer: str, arguments: str = "") -> str:
    return f"""
command = "{sys.executable} -S -c \\"{PROGRAM}\\"{arguments}"
name = "e"
[evaluator]
src_path = "."
run_path = "run"
num_parallel_evals = 2
fsync = false
[optimizer]
{optimizer}
[params."--x"]
default = 0.5
range = [-1.0, 1.0]
[params."--n"]
range = [1, 9]
"""


def journal(tmp_path: Path) -> list[str]:
    return (tmp_path / "run" / "e" / "trials.jsonl").read_text().splitlines()


def finished(lines: list[str]) -> list[int]:
    records = [json.loads(line) for line in lines]
    return [r["id"] for r in records if r["type"] == "trial"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('type = "random"\nseed = 3\nnum_iters = 40', 'type = "random"\nseed = 3\nnum_iters = 60'),
        (
            'type = "genetic"\nseed = 3\nmax_evals = 40',
            'type = "genetic"\nseed = 3\nmax_evals = 60',
        ),
    ],
)
def test_resume_after_raising_the_budget_in_the_file(
    tmp_path: Path, before: str, after: str
) -> None:
    path = write(tmp_path, experiment(before))
    assert invoke("run", path, "--quiet").code == 0
    kept = journal(tmp_path)
    write(tmp_path, experiment(after))
    outcome = invoke("run", path, "--resume", "--quiet")
    assert outcome.code == 0, outcome.err
    lines = journal(tmp_path)
    assert lines[: len(kept)] == kept
    assert sorted(finished(lines)) == list(range(1, 61))  # each trial once


def test_max_evals_overrides_the_budget_and_grows_it_on_resume(tmp_path: Path) -> None:
    path = write(tmp_path, experiment('type = "genetic"\nseed = 3\ngenerations = 2'))
    outcome = invoke("run", path, "--max-evals", "40", "--quiet")
    assert outcome.code == 0, outcome.err
    kept = journal(tmp_path)
    assert sorted(finished(kept)) == list(range(1, 41))
    outcome = invoke("run", path, "--max-evals", "60", "--resume", "--quiet")
    assert outcome.code == 0, outcome.err
    lines = journal(tmp_path)
    assert lines[: len(kept)] == kept
    assert sorted(finished(lines)) == list(range(1, 61))


def test_a_smaller_max_evals_than_spent_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, experiment('type = "random"\nseed = 3\nnum_iters = 6'))
    assert invoke("run", path, "--quiet").code == 0
    outcome = invoke("run", path, "--max-evals", "4", "--resume", "--quiet")
    assert outcome.code == 2
    assert "holds 6 trials" in outcome.err
    assert "at least 6" in outcome.err


def test_a_changed_setting_is_still_refused(tmp_path: Path) -> None:
    path = write(tmp_path, experiment('type = "genetic"\nseed = 3\nmax_evals = 8'))
    assert invoke("run", path, "--quiet").code == 0
    write(tmp_path, experiment('type = "genetic"\nseed = 3\nmax_evals = 12\nmutation_rate = 0.5'))
    outcome = invoke("run", path, "--resume", "--quiet")
    assert outcome.code == 2
    assert "mutation_rate: 0.05 -> 0.5" in outcome.err


@pytest.mark.parametrize(
    ("optimizer", "budget", "limit"),
    [
        ('type = "random"\nnum_iters = 5', 7, False),
        ('type = "genetic"\ngenerations = 1\npop_size = 4\nnum_demes = 1', 7, False),
        ('type = "grid"\ngrid_size = 4', 7, True),
        ('type = "grid"\ngrid_size = 2', 4, True),  # 2 x 2 points: not lengthened
    ],
)
def test_max_evals_for_each_type(tmp_path: Path, optimizer: str, budget: int, limit: bool) -> None:
    loaded = load_experiment(write(tmp_path, experiment(optimizer)), max_evals=7)
    strategy = loaded.optimizer.make_strategy(loaded.params)
    assert strategy.budget == budget
    assert isinstance(strategy, EvaluationLimit) is limit


def test_max_evals_limits_a_pbt_run(tmp_path: Path) -> None:
    loaded = load_experiment(
        write(tmp_path, experiment('type = "pbt"\npopulation = 2\nsteps = 5', " @checkpoint")),
        max_evals=3,
    )
    assert loaded.optimizer.make_strategy(loaded.params).budget == 3
    assert isinstance(loaded.optimizer, hyperdeme.PBTOptimizer)


@pytest.mark.parametrize("value", ["0", "-3", "ten"])
def test_max_evals_must_be_a_positive_integer(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, experiment('type = "random"'))
    outcome = invoke("run", path, "--max-evals", value)
    assert outcome.code == 2
    assert "--max-evals: must be an integer >= 1" in outcome.err
