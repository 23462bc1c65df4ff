"""``gpus``/``gpus_per_eval`` and ``@python`` in an experiment file: checked, run, dry-run."""

from __future__ import annotations

import sys
from pathlib import Path

import hyperdeme

from .conftest import HERE, invoke, write


def experiment(command: str, evaluator: str, *, num_iters: int = 4) -> str:
    return f"""
command = "{command}"
name = "g"
[evaluator]
src_path = "{HERE}"
run_path = "run"
{evaluator}
[optimizer]
type = "random"
num_iters = {num_iters}
seed = 2
[params."--lr"]
default = 0.1
range = [0.001, 1.0]
"""


def test_a_run_pins_devices_from_the_file(tmp_path: Path) -> None:
    text = experiment("@python train.py", 'gpus = [0, "MIG-x"]\nnum_parallel_evals = 2')
    outcome = invoke("run", write(tmp_path, text))
    assert outcome.code == 0, outcome.err
    trials = hyperdeme.read_journal(tmp_path / "run" / "g")
    assert {t.status for t in trials} == {hyperdeme.Status.OK}
    assert all(t.info["gpus"] in (["0"], ["MIG-x"]) for t in trials)
    assert all(t.command.startswith(sys.executable) for t in trials)


def test_the_dry_run_shows_the_drivers_interpreter(tmp_path: Path) -> None:
    outcome = invoke("run", write(tmp_path, experiment("@python train.py", "")), "--dry-run")
    assert outcome.code == 0, outcome.err
    lines = [line for line in outcome.out.splitlines() if "train.py" in line]
    assert lines
    assert all(f"{sys.executable} train.py --lr=" in line for line in lines)
    assert "@python" not in outcome.out


def test_a_bad_pool_in_the_file_is_refused_before_anything_runs(tmp_path: Path) -> None:
    text = experiment("@python train.py", "gpus = [0, 1]\ngpus_per_eval = 3")
    outcome = invoke("run", write(tmp_path, text))
    assert outcome.code != 0
    assert "gpus_per_eval=3 is more than the 2 devices" in outcome.err
    assert not (tmp_path / "run" / "g").exists()
