"""Embedding a run in an application's event loop (issue 26).

A cancel landing at any await of a run's start-up or shutdown leaves nothing
behind (no process, no thread, no open file) and a result equal to the
journal; the three entry points raise the same bare errors; ``opt.cancel()``
stops a run from another thread; plain functions get a thread limiter of
their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine, Generator
from pathlib import Path
from typing import Any

import anyio
import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest

import hyperdeme
from hyperdeme import Evaluator, Params, RandomOptimizer, Status

KERNEL = Path(__file__).parents[1] / "kernels" / "fast.sh"
SPACE = Params([["--x", [1.0, 2.0, 3.0]]])


class Counting:
    """Awaits ``coroutine``, calling ``hook(n)`` as it yields to the loop for the n-th
    time: a cancel requested there lands at exactly that await."""

    def __init__(self, coroutine: Coroutine[Any, Any, Any], hook: Callable[[int], None]):
        self.coroutine = coroutine
        self.hook = hook

    def __await__(self) -> Generator[Any, Any, Any]:
        yields = 0
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                if error is not None:
                    yielded = self.coroutine.throw(error)
                else:
                    yielded = self.coroutine.send(value)
            except StopIteration as stop:
                return stop.value
            yields += 1
            self.hook(yields)
            try:
                value, error = (yield yielded), None
            except BaseException as thrown:  # the loop's, handed on (a cancellation)
                value, error = None, thrown


def _ours() -> tuple[set[str], int, int]:
    """Threads (but the event loops' reusable worker pools), child processes, open fds."""
    threads = {
        f"{t.name}#{t.ident}"
        for t in threading.enumerate()
        if not t.name.startswith(("AnyIO worker thread", "Trio thread"))
    }
    me = psutil.Process()
    return threads, len(me.children(recursive=True)), me.num_fds()


def _optimizer(tmp_path: Path, name: str, **settings: Any) -> RandomOptimizer:
    evaluator = Evaluator(
        f"sh {KERNEL}",
        run_path=str(tmp_path / "run"),
        src_path=str(tmp_path),
        num_parallel_evals=2,
        fsync=False,
        **settings,
    )
    return RandomOptimizer(evaluator, num_iters=3, seed=1, name=name)


async def _through_stream(opt: RandomOptimizer) -> None:
    async with hyperdeme.stream(opt, SPACE) as trials:
        async for _ in trials:
            pass


def _journal_matches_result(opt: RandomOptimizer) -> None:
    result = opt.result
    if result is None or result.journal_path is None or not result.journal_path.exists():
        return  # cancelled before the experiment was chosen: no journal to compare
    journalled = hyperdeme.read_journal(result.journal_path)
    assert sorted((t.id, t.status) for t in result.trials) == sorted(
        (t.id, t.status) for t in journalled
    )


@pytest.mark.parametrize("entry", ["optimize", "stream"])
async def test_a_cancel_at_every_await_of_a_run_leaves_nothing_behind(
    tmp_path: Path, entry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Count a whole run's awaits, then cancel the caller at each one in turn: every
    time, no watchdog, no thread, no file left open, and the result holds what the
    journal holds. For ``stream`` the awaits counted are those of the run inside it."""
    (tmp_path / "data.txt").write_text("x")  # a src_path entry: trials link it
    before = _ours()
    k = 0
    while True:
        k += 1
        opt = _optimizer(tmp_path, f"e{k}")
        reached = False
        with anyio.CancelScope() as scope:

            def hook(n: int, scope: anyio.CancelScope = scope, k: int = k) -> None:
                nonlocal reached
                if n == k:
                    reached = True
                    scope.cancel()

            if entry == "optimize":
                await Counting(hyperdeme.optimize(opt, SPACE), hook)
            else:
                monkeypatch.setattr(opt, "run", _counted(opt.run, hook))
                await _through_stream(opt)
        assert _ours() == before, f"left behind by a cancel at await {k}"
        _journal_matches_result(opt)
        if not reached:
            break  # the run has fewer than k awaits: every one was tried
    assert k > 5  # the start-up alone has more awaits than that


def _counted(run: Callable[..., Any], hook: Callable[[int], None]) -> Callable[..., Any]:
    return lambda *args, **kwargs: Counting(run(*args, **kwargs), hook)


async def _run_as(entry: str, opt: hyperdeme.Optimizer, params: Params, backend: str) -> None:
    if entry == "optimize":
        await hyperdeme.optimize(opt, params)
    elif entry == "stream":
        async with hyperdeme.stream(opt, params) as trials:
            async for _ in trials:
                pass
    else:  # the blocking call, in a thread, as an application would make it
        opt.backend = backend  # type: ignore[assignment]
        await anyio.to_thread.run_sync(opt.optimize, params)


class _BrokenSearch(hyperdeme.RandomSearch):
    def ask(self, trial_id: int) -> hyperdeme.Candidate | None:
        if trial_id > 1:
            raise ValueError("the strategy broke")
        return super().ask(trial_id)


def _fine(params: dict[str, Any]) -> float:
    return 1.0


def _fails(params: dict[str, Any]) -> float:
    raise RuntimeError("the objective cannot work")


@pytest.mark.parametrize("entry", ["optimize", "stream", "blocking"])
@pytest.mark.parametrize(
    ("function", "strategy", "expected"),
    [
        (_fine, _BrokenSearch, ValueError),
        (_fails, hyperdeme.RandomSearch, hyperdeme.EvaluationError),
    ],
)
async def test_every_entry_point_raises_the_same_bare_error(
    tmp_path: Path,
    entry: str,
    function: Callable[[dict[str, Any]], float],
    strategy: type[hyperdeme.Strategy],
    expected: type[Exception],
    anyio_backend: str,
) -> None:
    evaluator = Evaluator(function, run_path=str(tmp_path), fsync=False)
    opt = hyperdeme.Optimizer(evaluator, strategy=strategy, seed=1, name="e")
    with pytest.raises(expected) as raised:
        await _run_as(entry, opt, SPACE, anyio_backend)
    assert not isinstance(raised.value, BaseExceptionGroup)


INTERRUPTED = """
import os, signal, sys
import anyio, hyperdeme

async def interrupts(params):
    os.kill(os.getpid(), signal.SIGINT)
    await anyio.sleep(30)
    return 1.0

async def main(entry):
    evaluator = hyperdeme.Evaluator(interrupts, run_path=sys.argv[3], fsync=False)
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=2, name=entry)
    params = hyperdeme.Params([["--x", [1.0, 2.0]]])
    if entry == "stream":
        async with hyperdeme.stream(opt, params) as trials:
            async for _ in trials:
                pass
    else:
        await hyperdeme.optimize(opt, params)

try:
    anyio.run(main, sys.argv[2], backend=sys.argv[1])
except BaseException as error:
    print(type(error).__name__)
"""


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("entry", ["optimize", "stream"])
def test_ctrl_c_under_the_callers_own_loop_is_a_bare_keyboard_interrupt(
    tmp_path: Path, backend: str, entry: str
) -> None:
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPTED)
    done = subprocess.run(
        [sys.executable, str(script), backend, entry, str(tmp_path / "run")],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.decode().split() == ["KeyboardInterrupt"]


IGNORES_TERM = """trap '' TERM
touch "$1"
sleep 30 &
wait $!
wait $!
"""


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_cancel_from_another_thread_stops_a_blocking_run(tmp_path: Path, backend: str) -> None:
    """The run stops cleanly: its program (which ignores SIGTERM) is killed after the
    evaluator's grace period, and the run returns the journal's trials."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "ignores_term.sh").write_text(IGNORES_TERM)
    started = tmp_path / "started"
    evaluator = Evaluator(
        f"exec sh ignores_term.sh {started}",  # the launcher's own child ignores SIGTERM
        run_path=str(tmp_path / "run"),
        src_path=str(source),
        grace_period=0.5,
        num_parallel_evals=1,
        fsync=False,
    )
    opt = RandomOptimizer(evaluator, num_iters=3, name="e", backend=backend)  # type: ignore[arg-type]
    results: list[hyperdeme.Result] = []
    runner = threading.Thread(target=lambda: results.append(opt.optimize(SPACE)))
    runner.start()
    while not started.exists() and runner.is_alive():  # the program has begun
        runner.join(0.01)
    me = psutil.Process()
    watchdogs = [p.cmdline() for p in me.children() if "_watchdog_program" in " ".join(p.cmdline())]
    opt.cancel()
    runner.join(30)
    assert not runner.is_alive()
    (result,) = results
    assert result.cancelled
    assert [t.status for t in result.trials] == [Status.CANCELLED]
    assert result.trials[0].id == hyperdeme.read_journal(result.journal_path or "")[0].id
    assert me.children(recursive=True) == []
    assert watchdogs
    assert watchdogs[0][4] == "0.5"


def test_a_cancel_before_the_run_starts_stops_it_at_once(tmp_path: Path) -> None:
    evaluator = Evaluator(_fine, run_path=str(tmp_path), fsync=False)
    opt = RandomOptimizer(evaluator, num_iters=50, name="e")
    opt.cancel()
    result = opt.optimize(SPACE)
    assert result.cancelled
    assert result.trials == []
    again = RandomOptimizer(evaluator, num_iters=2, name="f").optimize(SPACE)
    assert not again.cancelled
    assert len(again.trials) == 2
    # consumed by the run it stopped: the optimizer's next run is not cancelled
    assert not opt.optimize(SPACE, resume=True).cancelled


async def _stop_on_cancel(opt: hyperdeme.Optimizer) -> None:
    try:
        await anyio.sleep_forever()
    finally:
        opt.cancel()


async def optimize_in_thread(opt: hyperdeme.Optimizer, params: Params) -> hyperdeme.Result:
    """The guide's pattern: a caller's cancellation of a blocking run in a thread."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(_stop_on_cancel, opt)
        result = await anyio.to_thread.run_sync(opt.optimize, params)
        tg.cancel_scope.cancel()
    return result


def test_the_guides_timeout_pattern_around_a_blocking_run_in_a_thread(tmp_path: Path) -> None:
    release = threading.Event()

    def waits(params: dict[str, Any]) -> float:
        release.wait(30)
        return 1.0

    evaluator = Evaluator(waits, run_path=str(tmp_path), fsync=False)
    opt = RandomOptimizer(evaluator, num_iters=5, name="e")

    async def main() -> None:
        with anyio.move_on_after(0.2):
            await optimize_in_thread(opt, SPACE)

    anyio.run(main)  # returns: the caller's timeout stopped the run in the thread
    release.set()
    assert opt.result is not None
    assert opt.result.cancelled
    assert [t.status for t in opt.result.trials] == [Status.CANCELLED]


async def _sixty_four_at_once(tmp_path: Path) -> None:
    all_in = anyio.Event()
    release = threading.Event()
    inside = 0
    lock = threading.Lock()

    def waits(params: dict[str, Any]) -> float:
        nonlocal inside
        with lock:
            inside += 1
            if inside == 64:
                anyio.from_thread.run_sync(all_in.set)
        release.wait(60)
        with lock:
            inside -= 1
        return 1.0

    evaluator = Evaluator(waits, run_path=str(tmp_path), num_parallel_evals=64, fsync=False)
    opt = RandomOptimizer(evaluator, num_iters=128, name="e")
    async with anyio.create_task_group() as tg:
        tg.start_soon(hyperdeme.optimize, opt, Params([["--x", 0.5, (0.0, 1.0)]]))
        with anyio.fail_after(20):
            await all_in.wait()  # 64 running at once: more than anyio's 40 default threads
        # the application's own to_thread calls are not starved meanwhile
        assert await anyio.to_thread.run_sync(lambda: "served") == "served"
        release.set()
    assert opt.result is not None
    assert [t.status for t in opt.result.trials] == [Status.OK] * 128


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_sixty_four_slots_of_plain_functions_run_sixty_four_at_once(
    tmp_path: Path, backend: str
) -> None:
    anyio.run(_sixty_four_at_once, tmp_path, backend=backend)


def test_an_async_objective_that_blocks_the_loop_past_eval_timeout_is_a_timeout(
    tmp_path: Path,
) -> None:
    import time

    async def blocks(params: dict[str, Any]) -> float:
        time.sleep(0.6)  # noqa: ASYNC251  # the mistake this test is about
        return 1.0

    evaluator = Evaluator(blocks, run_path=str(tmp_path), eval_timeout=0.2, fsync=False)
    (trial,) = RandomOptimizer(evaluator, num_iters=1, name="e").optimize(SPACE).trials
    assert trial.status is Status.TIMEOUT
    assert "event loop" in trial.error
    assert "plain `def`" in trial.error


def test_a_name_already_running_in_this_process_is_refused_as_running(tmp_path: Path) -> None:
    release = threading.Event()
    first_started = threading.Event()

    def waits(params: dict[str, Any]) -> float:
        first_started.set()
        release.wait(30)
        return 1.0

    evaluator = Evaluator(waits, run_path=str(tmp_path), fsync=False)
    first = RandomOptimizer(evaluator, num_iters=1, name="same")
    runner = threading.Thread(target=first.optimize, args=(SPACE,))
    runner.start()
    try:
        assert first_started.wait(30)
        with pytest.raises(hyperdeme.JournalError, match="another run in this process"):
            RandomOptimizer(evaluator, num_iters=1, name="same").optimize(SPACE)
    finally:
        release.set()
        runner.join(30)


def test_grace_period_is_checked_and_reaches_every_launchers_stop(tmp_path: Path) -> None:
    from hyperdeme._cli._experiment import load_experiment
    from hyperdeme.launchers import create
    from hyperdeme.launchers._pbs import PbsLauncher
    from hyperdeme.launchers._slurm import SlurmLauncher

    with pytest.raises(hyperdeme.ConfigError, match="grace_period") as raised:
        Evaluator(_fine, grace_period=-1)
    assert raised.value.name == "grace_period"
    options = Evaluator("prog", grace_period=1.5).config.launch
    assert create("local", options).grace == 1.5  # type: ignore[attr-defined]
    assert SlurmLauncher(options, environ={}).grace == 1.5
    assert PbsLauncher(options, environ={}).grace == 1.5
    assert create("local", Evaluator("prog").config.launch).grace == 5.0  # type: ignore[attr-defined]
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(
        'command = "python3 train.py"\n[evaluator]\ngrace_period = 0.5\n'
        '[optimizer]\ntype = "random"\nnum_iters = 1\n[params."--x"]\nrange = [0.0, 1.0]\n'
    )
    loaded = load_experiment(experiment)
    assert loaded.evaluator.config.launch.grace_period == 0.5


async def test_file_work_runs_in_a_worker_thread_not_on_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the experiment (lock, journal, replay), each trial's directory and links,
    and its logs: all in worker threads, none in the loop's thread."""
    from hyperdeme._driver import _opening
    from hyperdeme._engine import _runner
    from hyperdeme._engine._workspace import Workspace

    where: dict[str, set[int]] = {"open": set(), "prepare": set(), "logs": set()}
    open_journal, prepare, open_logs = _opening._open, Workspace.prepare, _runner._open_logs

    def spy(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def called(*args: Any, **kwargs: Any) -> Any:
            where[name].add(threading.get_ident())
            return function(*args, **kwargs)

        return called

    monkeypatch.setattr(_opening, "_open", spy("open", open_journal))
    monkeypatch.setattr(Workspace, "prepare", spy("prepare", prepare))
    monkeypatch.setattr(_runner, "_open_logs", spy("logs", open_logs))
    (tmp_path / "data.txt").write_text("x")
    await hyperdeme.optimize(_optimizer(tmp_path, "e"), SPACE)
    assert all(where.values())  # each was called
    assert threading.get_ident() not in set().union(*where.values())


async def test_cancel_ends_a_streams_iteration_and_the_result_says_so(tmp_path: Path) -> None:
    evaluator = Evaluator(_fine, run_path=str(tmp_path), fsync=False)
    opt = RandomOptimizer(evaluator, num_iters=1000, name="e")
    seen = 0
    async with hyperdeme.stream(opt, Params([["--x", 0.5, (0.0, 1.0)]])) as trials:
        async for _ in trials:
            seen += 1
            if seen == 3:
                opt.cancel()  # from the loop's own thread, too
    assert opt.result is not None
    assert opt.result.cancelled
    assert 3 <= len(opt.result.trials) < 1000
    journalled = hyperdeme.read_journal(opt.result.journal_path or "")
    assert sorted(t.id for t in opt.result.trials) == sorted(t.id for t in journalled)
