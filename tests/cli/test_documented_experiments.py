"""The experiment files that `run --help` and the README show run as printed, and plan
the number of trials they state (issue 21: the help's condition named a flag without a
table, and the README's file ran 640 trials where a reader expected 160)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import invoke

README = Path(__file__).parents[2] / "README.md"


def help_experiment() -> str:
    shown = invoke("run", "--help").out
    block = shown.split("The experiment file (TOML):\n\n", 1)[1].split("\n\n", 1)[0]
    return "\n".join(line.removeprefix("  ") for line in block.splitlines())


def readme_experiment() -> str:
    section = README.read_text(encoding="utf-8").split("\n## Command line\n", 1)[1]
    return section.split("```toml\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("source", [help_experiment, readme_experiment], ids=["help", "readme"])
def test_a_documented_experiment_runs_as_shown_and_plans_what_it_says(
    tmp_path: Path, source: Callable[[], str]
) -> None:
    text = source()
    (stated,) = re.findall(r"# (\d+) trials in all", text)
    (tmp_path / "src").mkdir()  # the directory its src_path names
    path = tmp_path / "experiment.toml"
    path.write_text(text)
    outcome = invoke("run", path, "--dry-run")
    assert outcome.code == 0, outcome.err
    assert f"optimizer: GeneticOptimizer, {stated} trials\n" in outcome.out
    assert "parameters: --lr, --optimizer, --momentum\n" in outcome.out
    commands = [line for line in outcome.out.splitlines() if line.startswith("  python3 ")]
    assert commands
    # the condition holds in what would run: --momentum only beside --optimizer=sgd
    for command in commands:
        assert ("--momentum=" in command) == ("--optimizer=sgd" in command)
