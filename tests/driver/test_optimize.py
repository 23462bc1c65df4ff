"""The public optimize API: blocking, awaited and streaming forms, on asyncio and trio."""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

import hyperdeme
from fakes import FakeLauncher
from hyperdeme import Exit, Job
from hyperdeme.strategies import GeneticConfig


def quadratic(params: dict[str, Any]) -> float:
    return (params["--x"] - 0.3) ** 2 + 0.1 * (params["--n"] - 5) ** 2


@pytest.fixture
def space() -> hyperdeme.Params:
    return hyperdeme.Params([["--x", 0.9, (0.0, 1.0)], ["--n", 1, (1, 10)]])


def evaluator(tmp_path: Path, function: Any = quadratic, **kwargs: Any) -> hyperdeme.Evaluator:
    return hyperdeme.Evaluator(function, run_path=str(tmp_path / "run"), **kwargs)


async def test_await_optimize_returns_the_best_trial(
    tmp_path: Path, space: hyperdeme.Params
) -> None:
    opt = hyperdeme.RandomOptimizer(evaluator(tmp_path), num_iters=30, seed=7, name="r")
    result = await hyperdeme.optimize(opt, space)
    assert len(result.trials) == 30
    best = min(result.trials, key=lambda t: t.fom)
    assert result.best_fom == best.fom == opt.best_fom
    assert result.best_params == best.params == opt.best_params
    assert result.n_failed == 0
    assert result.journal_path == tmp_path / "run" / "r" / "trials.jsonl"
    assert [t.id for t in hyperdeme.read_journal(result.journal_path)] == list(range(1, 31))
    # the baseline (all defaults) is the first trial
    assert result.trials[0].params == {"--x": 0.9, "--n": 1}


async def test_blocking_optimize_inside_a_running_loop_is_refused(
    tmp_path: Path, space: hyperdeme.Params
) -> None:
    opt = hyperdeme.RandomOptimizer(evaluator(tmp_path), num_iters=3)
    with pytest.raises(hyperdeme.UsageError, match=r"await hyperdeme\.optimize"):
        opt.optimize(space)


def test_blocking_optimize_runs_its_own_loop(tmp_path: Path, space: hyperdeme.Params) -> None:
    opt = hyperdeme.GridOptimizer(evaluator(tmp_path), grid_size=3)
    result = opt.optimize(space)
    # 3 x 3 grid plus the baseline, which is not a grid point
    assert len(result.trials) == 10
    assert opt.best_fom == result.best_fom < quadratic({"--x": 0.9, "--n": 1})


def test_blocking_optimize_on_trio(tmp_path: Path, space: hyperdeme.Params) -> None:
    opt = hyperdeme.RandomOptimizer(evaluator(tmp_path), num_iters=5, seed=1, backend="trio")
    assert len(opt.optimize(space).trials) == 5


async def test_stream_yields_each_trial_as_it_finishes(
    tmp_path: Path, space: hyperdeme.Params
) -> None:
    opt = hyperdeme.GeneticOptimizer(
        evaluator(tmp_path, num_parallel_evals=3), generations=2, num_demes=2, pop_size=4, seed=3
    )
    seen = []
    async with hyperdeme.stream(opt, space) as trials:
        async for trial in trials:
            seen.append(trial)
    assert len(seen) == 2 * 2 * 4
    assert opt.result is not None
    assert [t.id for t in seen] == [t.id for t in opt.result.trials]
    assert {t.info["deme"] for t in seen} == {0, 1}


async def test_max_evals_sizes_the_genetic_search_and_ends_the_run(
    tmp_path: Path, space: hyperdeme.Params
) -> None:
    opt = hyperdeme.GeneticOptimizer(
        evaluator(tmp_path, num_parallel_evals=3), max_evals=25, seed=2
    )
    assert opt.config == GeneticConfig(max_evals=25)
    assert (opt.config.num_demes, opt.config.pop_size, opt.config.generations) == (1, 8, 4)
    result = await hyperdeme.optimize(opt, space)
    assert len(result.trials) == 25
    two = hyperdeme.GeneticOptimizer(max_evals=400, num_demes=2, pop_size=20)
    assert (two.config.generations, two.config.budget) == (10, 400)
    crayai = hyperdeme.GeneticOptimizer()
    assert (crayai.config.num_demes, crayai.config.pop_size, crayai.config.generations) == (
        4,
        64,
        1000,
    )
    assert crayai.config.max_evals is None


async def test_leaving_the_stream_early_stops_the_run(
    tmp_path: Path, space: hyperdeme.Params
) -> None:
    started = 0

    async def slow(params: dict[str, Any]) -> float:
        nonlocal started
        started += 1
        await anyio.sleep(0.01)
        return quadratic(params)

    opt = hyperdeme.RandomOptimizer(evaluator(tmp_path, slow, num_parallel_evals=2), num_iters=1000)
    async with hyperdeme.stream(opt, space) as trials:
        async for trial in trials:
            if trial.id >= 5:
                break
    assert started < 20


async def test_stream_is_not_an_async_iterator_by_itself(
    tmp_path: Path, space: hyperdeme.Params
) -> None:
    opt = hyperdeme.RandomOptimizer(evaluator(tmp_path), num_iters=2)
    with pytest.raises(TypeError, match=r"async with hyperdeme\.stream"):
        async for _ in hyperdeme.stream(opt, space):  # type: ignore[attr-defined]
            pass


async def test_optimizer_without_evaluator_is_a_clear_error(space: hyperdeme.Params) -> None:
    with pytest.raises(hyperdeme.ConfigError, match="has no evaluator"):
        await hyperdeme.optimize(hyperdeme.GeneticOptimizer(), space)


async def test_evaluation_errors_surface_unwrapped_from_stream(
    tmp_path: Path, space: hyperdeme.Params
) -> None:
    def broken(params: dict[str, Any]) -> float:
        raise RuntimeError("kernel exploded")

    opt = hyperdeme.RandomOptimizer(evaluator(tmp_path, broken), num_iters=50)

    async def consume() -> None:
        async with hyperdeme.stream(opt, space) as trials:
            async for _ in trials:
                pass

    with pytest.raises(hyperdeme.EvaluationError, match="kernel exploded"):
        await consume()


def test_optimizer_arguments_are_checked_at_construction() -> None:
    with pytest.raises(hyperdeme.ConfigError, match="mutation_rate"):
        hyperdeme.GeneticOptimizer(mutation_rate=1.5)
    with pytest.raises(hyperdeme.ConfigError, match="grid_size"):
        hyperdeme.GridOptimizer(None, grid_size=0)
    with pytest.raises(hyperdeme.ConfigError, match="num_iters"):
        hyperdeme.RandomOptimizer(None, num_iters=-1)
    with pytest.raises(hyperdeme.ConfigError, match="evaluator must be"):
        hyperdeme.RandomOptimizer("python3 train.py")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"seed": -1},
            hyperdeme.ConfigError,
            "seed must be an integer >= 0 (0 or None draws a fresh seed), got -1.",
        ),
        (
            {"log_fn": "logs/ga.log"},
            hyperdeme.ConfigError,
            "log_fn must be a file name in the run directory, without '/', and not one of the "
            "engine's own (trials.jsonl, trial directories, checkpoints, dot files); "
            "got 'logs/ga.log'.",
        ),
        (
            {"log_fn": "trials.jsonl"},
            hyperdeme.ConfigError,
            "log_fn must be a file name in the run directory, without '/', and not one of the "
            "engine's own (trials.jsonl, trial directories, checkpoints, dot files); "
            "got 'trials.jsonl'.",
        ),
        (
            {"name": ".."},
            hyperdeme.ConfigError,
            "name names the experiment's directory under run_path: a plain name without '/' "
            "(and not '.' or '..'), got '..'.",
        ),
        (
            {"mutation_rat": 0.2},
            hyperdeme.ConfigTypeError,
            "GeneticOptimizer got unknown keyword argument(s) 'mutation_rat' (did you mean "
            "'mutation_rate'?); allowed: add_mutation_bounds, backend, crossover_rate, "
            "evaluator, generations, gens_per_epoch, log_fn, max_evals, migration_interval, mode, "
            "mul_mutation_bounds, mutation_rate, name, num_demes, pop_size, reproducible, seed, "
            "verbose.",
        ),
    ],
)
def test_bad_arguments_are_refused_by_the_constructor(
    tmp_path: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    # not at the first ask or the first log line, after the allocation is made
    with pytest.raises(error) as caught:
        hyperdeme.GeneticOptimizer(evaluator(tmp_path), generations=1, pop_size=2, **kwargs)
    assert str(caught.value) == message


def test_unknown_keywords_name_the_optimizers_own_keywords() -> None:
    expected = (
        r"RandomOptimizer got unknown keyword argument\(s\) 'numIters' \(did you mean "
        r"'num_iters'\?\); allowed: backend, evaluator, log_fn, name, num_iters, reproducible, "
        r"seed, verbose\.$"
    )
    with pytest.raises(hyperdeme.ConfigTypeError, match=expected):
        hyperdeme.RandomOptimizer(numIters=5)  # type: ignore[call-arg]


def test_log_fn_none_means_no_log(tmp_path: Path, space: hyperdeme.Params) -> None:
    opt = hyperdeme.RandomOptimizer(evaluator(tmp_path), num_iters=2, name="r", log_fn=None)
    opt.optimize(space)
    assert sorted(p.name for p in (tmp_path / "run" / "r").iterdir()) == [".lock", "trials.jsonl"]


async def test_genetic_fills_every_slot_of_an_allocation_found_at_run_time(
    tmp_path: Path, space: hyperdeme.Params
) -> None:
    # nodes not given: the slots (4) are known only once the launcher reports its nodes
    everyone_running = anyio.Event()

    async def handler(job: Job) -> Exit:
        if launcher.running == 4:
            everyone_running.set()
        with anyio.move_on_after(1):
            await everyone_running.wait()
        job.stdout.write(b"FoM: 1\n")
        return Exit(0)

    launcher = FakeLauncher(handler, total_nodes=4)

    hyperdeme.register_launcher("allocation_found_at_run_time")(lambda options: launcher)
    ev = hyperdeme.Evaluator(
        "true", run_path=str(tmp_path), src_path=str(tmp_path),
        launcher="allocation_found_at_run_time",
    )  # fmt: skip
    opt = hyperdeme.GeneticOptimizer(ev, generations=1, num_demes=2, pop_size=4, seed=1)
    result = await hyperdeme.optimize(opt, space)
    assert len(result.trials) == 8
    assert launcher.max_running == 4


async def test_log_fn_writes_a_global_and_a_per_deme_log(
    tmp_path: Path, space: hyperdeme.Params
) -> None:
    opt = hyperdeme.GeneticOptimizer(
        evaluator(tmp_path), generations=1, num_demes=2, pop_size=3, name="ga", log_fn="ga.log"
    )
    await hyperdeme.optimize(opt, space)
    directory = tmp_path / "run" / "ga"
    assert len((directory / "ga.log").read_text().splitlines()) == 6
    assert len((directory / "ga.deme0.log").read_text().splitlines()) == 3
    assert len((directory / "ga.deme1.log").read_text().splitlines()) == 3


async def test_same_seed_same_trials_with_one_slot(tmp_path: Path, space: hyperdeme.Params) -> None:
    runs = []
    for attempt in range(2):
        opt = hyperdeme.GeneticOptimizer(
            evaluator(tmp_path / str(attempt)), generations=3, num_demes=2, pop_size=4, seed=11
        )
        result = await hyperdeme.optimize(opt, space)
        runs.append([(t.params, t.fom) for t in result.trials])
    assert runs[0] == runs[1]
    assert not math.isinf(min(f for _, f in runs[0]))


KERNEL = (
    "import sys; a = dict(x.split('=') for x in sys.argv[1:]); "
    "print('FoM:', (float(a['--x']) - 0.3) ** 2 + 0.1 * (int(a['--n']) - 5) ** 2)"
)


def make_optimizer(kind: str, evaluator: hyperdeme.Evaluator) -> hyperdeme.Optimizer:
    if kind == "random":
        return hyperdeme.RandomOptimizer(evaluator, num_iters=8, seed=1)
    if kind == "grid":
        return hyperdeme.GridOptimizer(evaluator, grid_size=2)
    return hyperdeme.GeneticOptimizer(evaluator, generations=2, num_demes=2, pop_size=2, seed=1)


@pytest.mark.parametrize("kind", ["random", "grid", "genetic"])
@pytest.mark.parametrize("how", ["local", "callable"])
async def test_every_strategy_runs_end_to_end(
    tmp_path: Path, space: hyperdeme.Params, kind: str, how: str
) -> None:
    if how == "local":
        command = f"{sys.executable} -c {shlex.quote(KERNEL)}"
        ev = hyperdeme.Evaluator(
            command, run_path=str(tmp_path), src_path=str(tmp_path), num_parallel_evals=2,
            workload_manager="local",
        )  # fmt: skip
    else:
        ev = evaluator(tmp_path, num_parallel_evals=2)
    result = await hyperdeme.optimize(make_optimizer(kind, ev), space)
    assert len(result.trials) == (5 if kind == "grid" else 8)
    assert result.n_failed == 0
    for trial in result.trials:
        assert trial.fom == pytest.approx(quadratic(trial.params))
    assert result.best_fom == min(t.fom for t in result.trials)


async def test_checkpoint_token_becomes_the_trials_own_directory(
    tmp_path: Path, space: hyperdeme.Params
) -> None:
    writer = "import sys, pathlib; pathlib.Path(sys.argv[1], 'model.ckpt').write_text('w'); "
    writer += "print('FoM: 1')"
    ev = hyperdeme.Evaluator(
        f"{sys.executable} -c {shlex.quote(writer)} @checkpoint",
        run_path=str(tmp_path / "run"), src_path=str(tmp_path), checkpoint=str(tmp_path / "ckpt"),
        workload_manager="local",
    )  # fmt: skip
    opt = hyperdeme.RandomOptimizer(ev, num_iters=3, seed=1, name="ck")
    result = await hyperdeme.optimize(opt, space)
    assert result.n_failed == 0
    for trial in result.trials:
        assert (tmp_path / "ckpt" / "ck" / f"{trial.id:05d}" / "model.ckpt").read_text() == "w"


@pytest.mark.parametrize("verbose", [True, False])
def test_verbose_prints_human_lines_and_quiet_prints_nothing(
    tmp_path: Path, space: hyperdeme.Params, verbose: bool, capfd: pytest.CaptureFixture[str]
) -> None:
    opt = hyperdeme.RandomOptimizer(evaluator(tmp_path, verbose=verbose), num_iters=2, seed=1)
    opt.optimize(space)
    out, err = capfd.readouterr()
    assert out == ""
    if verbose:
        assert err.count("trial.finished") == 2
        assert "run.finished" in err
    else:
        assert err == ""


def test_blocking_optimize_raises_deliberate_errors_unwrapped(
    tmp_path: Path, space: hyperdeme.Params
) -> None:
    ev = hyperdeme.Evaluator(
        "exit 3", run_path=str(tmp_path), src_path=str(tmp_path), workload_manager="local"
    )
    opt = hyperdeme.RandomOptimizer(ev, num_iters=10, seed=1)
    with pytest.raises(hyperdeme.EvaluationError, match="exit code 3") as caught:
        opt.optimize(space)
    assert caught.value.command == "exit 3 --x=0.9 --n=1"


@pytest.mark.parametrize("form", ["await", "stream", "blocking"])
async def test_os_errors_reach_the_caller_as_themselves(
    tmp_path: Path, space: hyperdeme.Params, form: str
) -> None:
    """Never wrapped in an ExceptionGroup, whichever form runs the optimization."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    ev = hyperdeme.Evaluator(quadratic, run_path=str(blocker / "run"))
    opt = hyperdeme.RandomOptimizer(ev, num_iters=2, seed=1)

    async def run() -> None:
        if form == "await":
            await hyperdeme.optimize(opt, space)
        elif form == "stream":
            async with hyperdeme.stream(opt, space) as trials:
                async for _ in trials:
                    pass
        else:
            await anyio.to_thread.run_sync(opt.optimize, space)

    with pytest.raises(NotADirectoryError) as caught:
        await run()
    assert type(caught.value) is NotADirectoryError


def test_verbose_shows_the_launcher_choice_and_crayai_style_generation_lines(
    tmp_path: Path, space: hyperdeme.Params, capfd: pytest.CaptureFixture[str]
) -> None:
    ev = hyperdeme.Evaluator(
        f"{sys.executable} -c {shlex.quote(KERNEL)}", run_path=str(tmp_path),
        src_path=str(tmp_path), workload_manager="local", verbose=True,
    )  # fmt: skip
    opt = hyperdeme.GeneticOptimizer(ev, generations=3, num_demes=2, pop_size=2, seed=1)
    result = opt.optimize(space)
    _, err = capfd.readouterr()
    assert "launcher.detected" in err
    assert "workload_manager='local' was given" in err
    lines = [line for line in err.splitlines() if "run.generation" in line]
    assert len(lines) == 3  # 12 evaluations, 4 a generation
    best = result.best_trial
    assert best is not None
    assert f"best_fom={best.fom}" in lines[-1]
    assert "evaluations=12" in lines[-1]
