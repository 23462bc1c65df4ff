"""The guide's "write your own strategy" example: public names only, mypy --strict, runs."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import hyperdeme

EXAMPLE = Path(__file__).parents[2] / "examples" / "custom_strategy"
SOURCE = Path(hyperdeme.__file__).parents[1]


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """``optimize.py`` imported (with its sibling ``coordinate.py``), forgotten afterwards."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    yield importlib.import_module("optimize")
    for name in ("optimize", "coordinate"):
        sys.modules.pop(name, None)


def test_it_runs_and_finds_the_bottom_of_the_bowl(example: ModuleType, tmp_path: Path) -> None:
    result = example.main(run_path=str(tmp_path / "run"))
    assert len(result.trials) == 60
    assert all(trial.ok for trial in result.trials)
    assert result.best_fom < 0.01  # the defaults score 11.29
    assert result.best_params["--act"] == "tanh"
    assert result.best_params["--x"] == pytest.approx(0.7, abs=0.1)
    assert result.best_params["--y"] == pytest.approx(-0.3, abs=0.1)


def test_a_round_waits_for_its_results_and_a_fruitless_round_halves_the_step(
    example: ModuleType,
) -> None:
    coordinate = sys.modules["coordinate"]
    search = coordinate.CoordinateSearch(example.SPACE, seed=1, max_evals=10)
    first = search.ask(1)
    assert first is not None
    assert first.params == {"--x": -1.0, "--y": 2.0, "--act": "relu"}
    assert search.ask(2) is None  # the next round starts from this result
    search.tell(hyperdeme.Trial(1, first.params, 5.0, candidate=first))
    round_ = [c for c in (search.ask(i) for i in range(2, 8)) if c is not None]
    assert [c.params for c in round_[:4]] == [
        {"--x": -2.0, "--y": 2.0, "--act": "relu"},
        {"--x": 0.0, "--y": 2.0, "--act": "relu"},
        {"--x": -1.0, "--y": 1.0, "--act": "relu"},
        {"--x": -1.0, "--y": 3.0, "--act": "relu"},
    ]
    assert [c.params for c in round_[4:]] in ([], [{"--x": -1.0, "--y": 2.0, "--act": "tanh"}])
    assert search.ask(8) is None  # the round is out
    for trial_id, candidate in enumerate(round_, start=2):
        search.tell(hyperdeme.Trial(trial_id, candidate.params, 9.0, candidate=candidate))
    halved = search.ask(8)
    assert halved is not None
    assert halved.info == {"step": 0.125}
    assert halved.params == {"--x": -1.5, "--y": 2.0, "--act": "relu"}


def test_its_settings_are_checked_and_recorded(example: ModuleType) -> None:
    coordinate = sys.modules["coordinate"]
    with pytest.raises(hyperdeme.ConfigError, match=r"got max_evals=0, step=0.25\.$"):
        coordinate.CoordinateSearch(example.SPACE, max_evals=0)
    assert coordinate.CoordinateSearch(example.SPACE, step=0.5).describe() == {
        "type": "coordinate.CoordinateSearch",
        "settings": {"max_evals": 60, "step": 0.5},
    }


def test_it_imports_no_private_module() -> None:
    imported: list[str] = []
    for path in EXAMPLE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported.append(node.module or "")
                imported += [f"{node.module}.{alias.name}" for alias in node.names]
    assert "hyperdeme" in imported
    private = [
        name
        for name in imported
        if name.startswith("hyperdeme.") and any(p.startswith("_") for p in name.split("."))
    ]
    assert private == []


@pytest.mark.slow
def test_it_passes_mypy_strict(tmp_path: Path) -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), "."],
        cwd=EXAMPLE,
        env={**os.environ, "MYPYPATH": str(SOURCE)},
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Success: no issues found in 3 source files" in checked.stdout
