"""A crayai script through ``hyperdeme.hpo`` prints what crayai printed (issue 17, item 6).

Each test runs ``crayai_script.py`` as a subprocess, as a user would, and
checks its stdout against the run's journal.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hyperdeme._core._trial import Trial
from hyperdeme.hpo._console import Console
from hyperdeme.hpo._generations import Generations

SCRIPT = Path(__file__).with_name("crayai_script.py")
RULE = "-" * 60


def run_script(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def journal(root: Path) -> list[dict[str, Any]]:
    """The finished trials of the one experiment under ``root``, in journal order."""
    (path,) = root.glob("*/trials.jsonl")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return [r for r in records if r["type"] == "trial"]


def best(trials: list[dict[str, Any]]) -> dict[str, Any]:
    return min((t for t in trials if t["status"] == "ok"), key=lambda t: t["fom"])


def block_after(lines: list[str], index: int) -> tuple[float, dict[str, str]]:
    """The FoM and parameters printed under the heading at ``lines[index]``."""
    fom = re.fullmatch(r"  FoM: (\S+)", lines[index + 1])
    assert fom is not None, lines[index : index + 3]
    params = {}
    for line in lines[index + 2 :]:
        found = re.fullmatch(r"  (--\w+): (\S+)", line)
        if found is None:
            break
        params[found[1]] = found[2]
    return float(fom[1]), params


def printed(params: dict[str, Any]) -> dict[str, str]:
    return {flag: repr(v) if isinstance(v, float) else str(v) for flag, v in params.items()}


@pytest.mark.parametrize(("backend", "mode"), [("asyncio", "steady"), ("trio", "generational")])
def test_genetic_prints_the_banner_a_global_best_per_generation_and_the_best(
    tmp_path: Path, backend: str, mode: str
) -> None:
    out = run_script(tmp_path, "genetic", "--mode", mode, "--backend", backend)
    lines = out.splitlines()
    trials = journal(tmp_path / "run")

    # the banner: the optimizer, its settings, the evaluator's, before any result
    assert lines[:4] == [RULE, "Genetic Optimizer", RULE, "Optimizer Settings:"]
    settings = lines[: lines.index("Evaluator Settings:")]
    for line in ("  generations: 3", "  num_demes: 2", "  pop_size: 3", f"  mode: {mode}"):
        assert line in settings
    assert "  mutation_rate: 0.5" in settings
    evaluator = lines[lines.index("Evaluator Settings:") :]
    assert f"  cmd: {sys.executable} {SCRIPT.with_name('crayai_train.py')}" in evaluator
    assert "  num_parallel_evals: 2" in evaluator
    assert lines.index("Evaluator Settings:") < lines.index("Global Best:")

    # one Global Best block per generation: the best of that generation and those before
    headings = [(i, re.fullmatch(r"Generation (\d+) \((\d+) evaluations\)", line))
                for i, line in enumerate(lines)]  # fmt: skip
    generations = [(i, int(m[1]), int(m[2])) for i, m in headings if m is not None]
    assert [g for _, g, _ in generations] == [0, 1, 2]
    assert {t["info"]["generation"] for t in trials} == {0, 1, 2}
    for index, generation, evaluations in generations:
        upto = [t for t in trials if t["info"]["generation"] <= generation]
        assert evaluations == len(upto)
        assert lines[index + 1] == "Global Best:"
        fom, params = block_after(lines, index + 1)
        assert fom == best(upto)["fom"]
        assert params in [printed(t["params"]) for t in upto if t["fom"] == fom]
    if mode == "generational":  # 2 x 3, then 2 x 2 new children a generation
        assert [e for _, _, e in generations] == [6, 10, 14]

    # the final Best block, last
    assert lines[-1] == RULE
    final = lines.index("Best:")
    assert final > generations[-1][0]
    fom, params = block_after(lines, final)
    assert fom == best(trials)["fom"]
    assert params == printed(best(trials)["params"])

    # without verbose: no trial lines, no program output
    assert not [line for line in lines if line.startswith(("Trial ", "training "))]


@pytest.mark.parametrize("optimizer", ["random", "grid"])
def test_every_optimizer_prints_its_banner_and_the_best(tmp_path: Path, optimizer: str) -> None:
    lines = run_script(tmp_path, optimizer).splitlines()
    trials = journal(tmp_path / "run")
    assert lines[:4] == [RULE, f"{optimizer.title()} Optimizer", RULE, "Optimizer Settings:"]
    assert ("  num_iters: 4" if optimizer == "random" else "  chunk_size: 50") in lines
    assert "Global Best:" not in lines  # no generations
    fom, params = block_after(lines, lines.index("Best:"))
    assert fom == best(trials)["fom"]
    assert params == printed(best(trials)["params"])


@pytest.mark.parametrize(("backend", "mode"), [("asyncio", "steady"), ("trio", "generational")])
def test_verbose_adds_a_line_and_the_program_output_per_trial(
    tmp_path: Path, backend: str, mode: str
) -> None:
    out = run_script(tmp_path, "genetic", "--verbose", "--mode", mode, "--backend", backend)
    lines = out.splitlines()
    trials = journal(tmp_path / "run")
    assert len(trials) == (18 if mode == "steady" else 14)
    trial_lines: dict[int, int] = {}  # trial line index -> its generation
    for trial in trials:
        where = f"(deme {trial['info']['deme']}, generation {trial['info']['generation']})"
        flags = " ".join(f"{k}={v}" for k, v in printed(trial["params"]).items())
        line = f"Trial {trial['id']} {where}: FoM: {trial['fom']!r} {flags}"
        assert line in lines
        trial_lines[lines.index(line)] = trial["info"]["generation"]
        output = f"training x={trial['params']['--x']!r} n={trial['params']['--n']}"
        # the program's output follows its trial's line
        assert lines[lines.index(line) + 1 : lines.index(line) + 3] == [
            output,
            f"FoM: {trial['fom']!r}",
        ]
    # each generation's block comes right after the trial that completed it (and those
    # before it), before the next trial line
    for generation in (0, 1, 2):
        heading = next(
            i for i, line in enumerate(lines) if line.startswith(f"Generation {generation} ")
        )
        last = max(i for i, g in trial_lines.items() if g <= generation)
        assert heading > last
        assert not [i for i in trial_lines if last < i < heading]
    assert lines.count("Global Best:") == 3


def test_log_fn_files_go_to_the_current_directory_unless_run_path_is_given(
    tmp_path: Path,
) -> None:
    run_script(tmp_path, "genetic")
    assert len((tmp_path / "genetic.log").read_text().splitlines()) == 18
    assert (tmp_path / "genetic.deme0.log").is_file()
    assert (tmp_path / "genetic.deme1.log").is_file()
    assert not list((tmp_path / "run").glob("*/genetic*.log"))

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run_script(elsewhere, "random", "--run-path", str(tmp_path / "given"))
    assert not (elsewhere / "random.log").exists()
    (log,) = (tmp_path / "given").glob("*/random.log")
    assert len(log.read_text().splitlines()) == 4


def test_the_native_optimizers_print_nothing_and_keep_the_run_directory(
    tmp_path: Path,
) -> None:
    out = run_script(tmp_path, "genetic", "--native", "--verbose")
    assert out == ""
    assert not (tmp_path / "genetic.log").exists()
    (log,) = (tmp_path / "run").glob("*/genetic.log")
    assert len(log.read_text().splitlines()) == 18


def trial(trial_id: int, generation: int, fom: float) -> Trial:
    return Trial(id=trial_id, params={"--x": fom}, fom=fom, info={"generation": generation})


def test_a_generation_is_reported_when_it_and_those_before_have_finished() -> None:
    # steady mode, 1 deme of 2, several slots: generations overlap and finish out of order
    counter = Generations(num_demes=1, pop_size=2, generational=False, budget=5)
    assert counter.add(trial(1, 0, 0.5)) == []
    assert counter.add(trial(3, 1, 0.4)) == []
    assert counter.add(trial(2, 0, 0.6)) == [0]
    assert counter.add(trial(5, 2, 0.1)) == []
    assert counter.add(trial(4, 1, 0.3)) == [1, 2]  # the budget ends generation 2 at 5
    assert counter.rest() == []


async def test_a_resumed_run_reports_the_generations_it_completes() -> None:
    stream = _Stream()
    console = Console(
        stream,  # type: ignore[arg-type]
        verbose=False,
        generations=Generations(num_demes=1, pop_size=2, generational=False, budget=6),
    )
    console.seed([trial(1, 0, 0.5), trial(2, 0, 0.2)])  # resumed: generation 0 done before
    assert stream.text == ""
    for each in (trial(4, 1, 0.3), trial(3, 1, 0.9), trial(5, 2, 0.1)):
        await console.trial(each, None)
    console.finish(trial(5, 2, 0.1))
    lines = stream.text.splitlines()
    assert lines[1:4] == ["Generation 1 (4 evaluations)", "Global Best:", "  FoM: 0.2"]
    assert lines[6:9] == ["Generation 2 (5 evaluations)", "Global Best:", "  FoM: 0.1"]


class _Stream:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


async def test_a_maximized_run_reports_the_highest_fom_as_the_global_best() -> None:
    stream = _Stream()
    console = Console(
        stream,  # type: ignore[arg-type]
        verbose=False,
        generations=Generations(num_demes=1, pop_size=2, generational=False, budget=4),
        direction="maximize",
    )
    for each in (trial(1, 0, 0.5), trial(2, 0, 0.2), trial(3, 1, 0.4), trial(4, 1, 0.9)):
        await console.trial(each, None)
    lines = stream.text.splitlines()
    assert lines[1:4] == ["Generation 0 (2 evaluations)", "Global Best:", "  FoM: 0.5"]
    assert lines[6:9] == ["Generation 1 (4 evaluations)", "Global Best:", "  FoM: 0.9"]
