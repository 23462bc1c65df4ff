"""``Evaluator(direction="maximize")`` through the API: the best is the largest FoM, every
strategy searches exactly as it minimises the negated FoM, resume keeps the direction."""

from __future__ import annotations

import json
import math
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hyperdeme
from hyperdeme import Status, hpo


def accuracy(params: dict[str, Any]) -> float:
    """Highest (1.0) at --x 0.3, --n 5."""
    return 1.0 - (params["--x"] - 0.3) ** 2 - 0.01 * (params["--n"] - 5) ** 2


def loss(params: dict[str, Any]) -> float:
    return -accuracy(params)


SPACE = hyperdeme.Params([["--x", 0.9, (0.0, 1.0)], ["--n", 1, (1, 10)]])


def evaluator(tmp_path: Path, function: Any, **settings: Any) -> hyperdeme.Evaluator:
    return hyperdeme.Evaluator(function, run_path=str(tmp_path / "run"), **settings)


def pbt_training(score: Callable[[dict[str, Any]], float], sign: float) -> Any:
    """A PBT function evaluator: each slice improves its checkpointed accuracy; the FoM is
    ``sign`` times it."""

    def train(params: dict[str, Any], checkpoint: str | None = None) -> float:
        assert checkpoint is not None
        state = Path(checkpoint) / "state"
        reached = float(state.read_text()) if state.exists() else 0.0
        reached += max(0.0, score(params)) / 4
        state.write_text(repr(reached))
        return sign * reached

    return train


OPTIMIZERS: dict[str, Callable[[hyperdeme.Evaluator], hyperdeme.Optimizer]] = {
    "random": lambda ev: hyperdeme.RandomOptimizer(ev, num_iters=25, seed=3, name="e"),
    "grid": lambda ev: hyperdeme.GridOptimizer(ev, grid_size=4, name="e"),
    "genetic": lambda ev: hyperdeme.GeneticOptimizer(
        ev, generations=4, num_demes=2, pop_size=6, mutation_rate=0.5, seed=3, name="e"
    ),
    "pbt": lambda ev: hyperdeme.PBTOptimizer(
        ev, population=4, steps=4, quantile=0.25, seed=2, name="e"
    ),
    # crayai's PBT: each child continues its fitter parent's checkpoint
    "crayai_pbt": lambda ev: hyperdeme.GeneticOptimizer(
        ev, generations=4, num_demes=1, pop_size=6, mutation_rate=0.5, seed=3, name="e"
    ),
}


async def run(tmp_path: Path, kind: str, *, maximize: bool) -> hyperdeme.Result:
    direction = "maximize" if maximize else "minimize"
    settings: dict[str, Any] = {"direction": direction}
    if kind.endswith("pbt"):
        function = pbt_training(accuracy, 1.0 if maximize else -1.0)
    else:
        function = accuracy if maximize else loss
    if kind == "crayai_pbt":
        settings["checkpoint"] = str(tmp_path / direction / "checkpoints")
    ev = evaluator(tmp_path / direction, function, **settings)
    return await hyperdeme.optimize(OPTIMIZERS[kind](ev), SPACE)


@pytest.mark.parametrize("kind", list(OPTIMIZERS))
async def test_maximising_searches_as_minimising_the_negated_fom(tmp_path: Path, kind: str) -> None:
    """Same seed, same trials in the same order, the same lineage; FoMs negated."""
    up = await run(tmp_path, kind, maximize=True)
    down = await run(tmp_path, kind, maximize=False)
    assert len(up.trials) == len(down.trials) > 10
    assert [(t.id, t.params, t.info) for t in up.trials] == [
        (t.id, t.params, t.info) for t in down.trials
    ]
    assert [t.fom for t in up.trials] == [-t.fom for t in down.trials]
    assert up.best_trial is not None
    assert down.best_trial is not None
    assert up.best_trial.id == down.best_trial.id
    assert up.best_fom == max(t.fom for t in up.trials if t.ok) == -down.best_fom
    assert up.direction == "maximize"


async def test_the_genetic_search_climbs(tmp_path: Path) -> None:
    """Its selection keeps the fitter (higher) points: each generation does better on
    average (0.56, 0.70, 0.86, 0.93 today), where minimising the same accuracy does not
    (0.56, 0.59, 0.49, 0.53)."""
    up = await run(tmp_path, "genetic", maximize=True)
    wrong_optimizer = OPTIMIZERS["genetic"](evaluator(tmp_path / "wrong", accuracy))
    wrong = await hyperdeme.optimize(wrong_optimizer, SPACE)
    means = mean_by_generation(up)
    assert means == sorted(means)
    assert means[-1] > mean_by_generation(wrong)[-1] + 0.2
    assert up.best_fom == max(t.fom for t in up.trials)


def mean_by_generation(result: hyperdeme.Result) -> list[float]:
    by: dict[int, list[float]] = {}
    for trial in result.trials:
        by.setdefault(trial.info["generation"], []).append(trial.fom)
    return [sum(foms) / len(foms) for _, foms in sorted(by.items())]


async def test_the_best_is_the_largest_on_every_backend(tmp_path: Path) -> None:
    """Awaited (asyncio and trio): the result, the optimizer and the journal agree."""
    opt = hyperdeme.RandomOptimizer(
        evaluator(tmp_path, accuracy, direction="maximize", num_parallel_evals=3),
        num_iters=12,
        seed=4,
        name="up",
    )
    result = await hyperdeme.optimize(opt, SPACE)
    best = max(result.trials, key=lambda t: t.fom)
    assert result.best_trial is best
    assert opt.best_fom == result.best_fom == best.fom
    assert opt.best_params == best.params
    journal = result.journal_path
    assert journal is not None
    # the journal keeps the program's numbers, and says which way is better
    assert sorted(t.fom for t in hyperdeme.read_journal(journal)) == sorted(
        accuracy(t.params) for t in result.trials
    )
    header = json.loads(journal.read_text().splitlines()[0])
    assert header["fingerprint"]["direction"] == "maximize"


def test_a_metric_dict_keeps_its_weights(tmp_path: Path) -> None:
    """FoM = the weighted sum, as minimising; the largest sum is the best."""

    def metrics(params: dict[str, Any]) -> dict[str, float]:
        return {"accuracy": accuracy(params), "seconds": params["--n"]}

    weights = {"accuracy": 1.0, "seconds": -0.01}
    ev = evaluator(tmp_path, metrics, metric=weights, direction="maximize")
    result = hyperdeme.RandomOptimizer(ev, num_iters=10, seed=2).optimize(SPACE)
    for trial in result.trials:
        assert trial.fom == pytest.approx(
            trial.metrics["accuracy"] - 0.01 * trial.metrics["seconds"]
        )
    assert result.best_fom == max(t.fom for t in result.trials)


def test_without_a_success_the_best_fom_is_the_worst_value(tmp_path: Path) -> None:
    def broken(params: dict[str, Any]) -> float:
        raise RuntimeError("no")

    ev = evaluator(tmp_path, broken, direction="maximize")
    result = hyperdeme.Result(direction="maximize")
    assert (result.best_trial, result.best_fom, result.best_params) == (None, -math.inf, {})
    with pytest.raises(hyperdeme.EvaluationError):
        hyperdeme.RandomOptimizer(ev, num_iters=5).optimize(SPACE)  # fail-fast as minimising


@pytest.mark.parametrize("direction", ["max", "Maximize", "", None, 1])
def test_a_direction_other_than_minimize_or_maximize_is_a_config_error(direction: Any) -> None:
    with pytest.raises(hyperdeme.ConfigError, match="direction must be one of minimize, max") as e:
        hyperdeme.Evaluator("python3 train.py", direction=direction)
    assert (e.value.name, e.value.value) == ("direction", direction)


def test_crayai_hpo_keeps_minimising() -> None:
    assert hpo.Evaluator("python3 train.py").config.direction == "minimize"
    assert hyperdeme.Evaluator("python3 train.py").config.direction == "minimize"


async def test_resume_continues_a_maximised_search_and_refuses_another_direction(
    tmp_path: Path,
) -> None:
    """Stopped after 10 trials and resumed, the genetic search asks for what it would have
    asked for uninterrupted: the replayed strategy was told the same scores."""

    def optimizer(direction: str, name: str) -> hyperdeme.GeneticOptimizer:
        return hyperdeme.GeneticOptimizer(
            evaluator(tmp_path, accuracy, direction=direction),
            generations=4,
            num_demes=1,
            pop_size=6,
            seed=5,
            name=name,
        )

    whole = await hyperdeme.optimize(optimizer("maximize", "whole"), SPACE)
    async with hyperdeme.stream(optimizer("maximize", "parts"), SPACE) as trials:
        async for trial in trials:
            if trial.id == 10:
                break
    # the same experiment minimised would be another search
    with pytest.raises(hyperdeme.ConfigError, match="direction: 'maximize' -> 'minimize'"):
        await hyperdeme.optimize(optimizer("minimize", "parts"), SPACE, resume=True)
    parts = await hyperdeme.optimize(optimizer("maximize", "parts"), SPACE, resume=True)
    assert len(parts.trials) == len(whole.trials) == 24
    assert [(t.id, t.params, t.info) for t in sorted(parts.trials, key=lambda t: t.id)] == [
        (t.id, t.params, t.info) for t in whole.trials
    ]
    assert parts.best_fom == whole.best_fom == max(t.fom for t in whole.trials)


def test_generation_lines_and_progress_show_the_largest_fom(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    from hyperdeme._driver._progress import Progress

    ev = evaluator(tmp_path, accuracy, direction="maximize", verbose=True)
    opt = hyperdeme.GeneticOptimizer(ev, generations=3, num_demes=1, pop_size=4, seed=1)
    with capture_logs() as logs:
        result = opt.optimize(SPACE)
    lines = [log for log in logs if log["event"] == "run.generation"]
    assert len(lines) == 3
    for line in lines:
        so_far = result.trials[: line["evaluations"]]
        assert line["best_fom"] == max(t.fom for t in so_far)
    progress = Progress(budget=12, direction="maximize")
    assert progress.state.best_fom == -math.inf
    for trial in result.trials:
        progress.trial_finished(trial)
    assert progress.state.best_fom == result.best_fom == max(t.fom for t in result.trials)


def test_a_journal_without_a_direction_resumes_minimising(tmp_path: Path) -> None:
    """Journals written before directions existed minimised."""

    def optimizer(**settings: Any) -> hyperdeme.RandomOptimizer:
        ev = evaluator(tmp_path, loss, **settings)
        return hyperdeme.RandomOptimizer(ev, num_iters=6, seed=3, name="old")

    done = optimizer().optimize(SPACE)
    journal = done.journal_path
    assert journal is not None
    lines = journal.read_text().splitlines()
    header = json.loads(lines[0])
    del header["fingerprint"]["direction"]
    journal.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with pytest.raises(hyperdeme.ConfigError, match="direction: 'minimize' -> 'maximize'"):
        optimizer(direction="maximize").optimize(SPACE, resume=True)
    again = optimizer().optimize(SPACE, resume=True)
    assert again.best_fom == done.best_fom == min(t.fom for t in done.trials)


async def test_resumed_early_stopping_judges_by_the_direction(tmp_path: Path) -> None:
    """The resumed rule is rebuilt from the journal's intermediate FoMs (the program's
    accuracies) as scores: a fifth trial more accurate than the four before goes on. Were
    they replayed unconverted, its score 1.05 would rank below theirs (-1.3 ...) and it
    would be stopped."""
    source = tmp_path / "src"
    source.mkdir()
    program = (
        "import sys, time; x = float(sys.argv[1].split('=')[1])\n"
        "for epoch in range(4): print('FoM:', epoch / 10 - x - 1, flush=True); time.sleep(0.01)"
    )
    space = hyperdeme.Params([["--x", [0.3, 0.2, 0.1, 0.9, 0.05]]])

    def optimizer() -> hyperdeme.GridOptimizer:
        evaluator = hyperdeme.Evaluator(
            f"{sys.executable} -c {shlex.quote(program)}",
            run_path=str(tmp_path / "run"), src_path=str(source), num_parallel_evals=1,
            early_stopping=hyperdeme.ASHA(max_steps=4, reduction_factor=2, min_steps=1),
            direction="maximize",
        )  # fmt: skip
        return hyperdeme.GridOptimizer(evaluator, grid_size=5, chunk_size=1, name="curves")

    seen = 0
    async with hyperdeme.stream(optimizer(), space) as trials:
        async for _ in trials:
            seen += 1
            if seen == 3:
                break
    result = await hyperdeme.optimize(optimizer(), space, resume=True)
    by_x = {t.params["--x"]: t for t in result.trials}
    assert [by_x[x].status for x in (0.3, 0.2, 0.1)] == [Status.OK] * 3
    assert (by_x[0.9].status, by_x[0.9].steps) == (Status.STOPPED, 1)
    assert (by_x[0.05].status, by_x[0.05].steps) == (Status.OK, 4)
    assert result.best_trial is by_x[0.05]
    assert result.best_fom == pytest.approx(0.3 - 0.05 - 1)
