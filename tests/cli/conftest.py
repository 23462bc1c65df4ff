"""Helpers for the command's tests: experiment files, invoking the command, a shared run."""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hyperdeme._cli import main

HERE = Path(__file__).parent
TRAIN = HERE / "train.py"

#: the shared run: genetic, 2 demes x 4 x 2 generations, two slots, some trials failing
EXPERIMENT = f"""
command = "{sys.executable} train.py"
name = "small"

[evaluator]
src_path = "{HERE}"
run_path = "run"
num_parallel_evals = 2

[optimizer]
type = "genetic"
generations = 2
num_demes = 2
pop_size = 4
mutation_rate = 0.5
seed = 5

[params."--lr"]
default = 0.1
range = [1e-4, 1.0]
log = true

[params."--optimizer"]
default = "sgd"
values = ["sgd", "adam", "broken"]

[params."--momentum"]
default = 0.5
range = [0.0, 0.99]

[params."--layers"]
default = 1
range = [1, 6]

[[conditions]]
type = "equals"
dependent = "--momentum"
parent = "--optimizer"
value = "sgd"
"""


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def invoke(*argv: str | Path) -> Outcome:
    """Run the command in this process; its exit code and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return Outcome(code, out.getvalue(), err.getvalue())


def write(directory: Path, text: str, name: str = "experiment.toml") -> Path:
    path = directory / name
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run directory of EXPERIMENT, run once through ``hyperdeme run``."""
    directory = tmp_path_factory.mktemp("shared")
    outcome = invoke("run", write(directory, EXPERIMENT))
    assert outcome.code == 0, outcome.err
    return directory / "run" / "small"
