"""Step reports from Python objectives: ``trial.report`` feeds early stopping as a
program's ``FoM:`` lines do, in a coroutine, a worker thread and a worker process.

The functions are at module level: with ``function_runs_in="process"`` a worker
process imports this module to find them.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

import hyperdeme
from hyperdeme import ASHA, Params, Result, Status, Stopped, TrialContext, read_journal
from kernels.curve import fom

KERNEL = Path(__file__).parents[1] / "kernels" / "curve.py"
SPACE = Params([["--x", 0.5, (0.0, 1.0)]])
RULE = ASHA(max_steps=27, reduction_factor=3)  # rungs at steps 1, 3 and 9
EPOCHS = 27

pytestmark = pytest.mark.timeout(120)


def train(params: dict[str, Any], trial: TrialContext) -> float:
    for epoch in range(1, EPOCHS + 1):
        trial.report(fom(params["--x"], epoch), step=epoch)
    return fom(params["--x"], EPOCHS)


async def train_async(params: dict[str, Any], trial: TrialContext) -> float:
    for epoch in range(1, EPOCHS + 1):
        await anyio.lowlevel.checkpoint()
        trial.report(fom(params["--x"], epoch), step=epoch)
    return fom(params["--x"], EPOCHS)


def swallows(params: dict[str, Any], trial: TrialContext) -> float:
    """Catches Stopped and returns a better number than any it reported."""
    try:
        train(params, trial)
    except Stopped:
        return -1.0
    return fom(params["--x"], EPOCHS)


def swallows_and_hangs(params: dict[str, Any], trial: TrialContext) -> float:
    """Catches Stopped and goes on training (for far longer than the grace period)."""
    try:
        train(params, trial)
    except Stopped:
        import time

        time.sleep(60)
    return fom(params["--x"], EPOCHS)


async def train_offloaded(params: dict[str, Any], trial: TrialContext) -> float:
    """A coroutine function doing its training in a worker thread of its own."""
    result: float = await anyio.to_thread.run_sync(train, params, trial)
    return result


FUNCTIONS = {
    "thread": train,
    "coroutine": train_async,
    "offloaded": train_offloaded,
    "process": train,
}


async def run(
    tmp_path: Path, cmd: Any, *, name: str, num_iters: int = 9, **settings: Any
) -> Result:
    if not callable(cmd):
        settings["src_path"] = str(tmp_path)
    evaluator = hyperdeme.Evaluator(
        cmd, run_path=str(tmp_path / "run"), fsync=False, num_parallel_evals=1, **settings
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=num_iters, seed=4, name=name)
    return await hyperdeme.optimize(opt, SPACE)


def outcomes(result: Result) -> dict[int, tuple[Status, int, float, dict[int, float]]]:
    return {t.id: (t.status, t.steps, t.fom, t.intermediate) for t in result.trials}


@pytest.fixture(scope="module")
def program_outcomes(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[int, tuple[Status, int, float, dict[int, float]]]:
    """The same schedule over a program printing the same FoMs: what a function must match."""
    tmp_path = tmp_path_factory.mktemp("program")
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(KERNEL))}"
    result = anyio.run(
        lambda: run(tmp_path, command, name="program", early_stopping=RULE, launcher="local")
    )
    return outcomes(result)


@pytest.mark.parametrize("where", list(FUNCTIONS))
async def test_asha_stops_a_function_where_it_stops_a_program(
    tmp_path: Path,
    where: str,
    program_outcomes: dict[int, tuple[Status, int, float, dict[int, float]]],
) -> None:
    runs_in = "process" if where == "process" else "thread"
    result = await run(
        tmp_path, FUNCTIONS[where], name="f", early_stopping=RULE, function_runs_in=runs_in
    )
    got = outcomes(result)
    assert got == program_outcomes
    statuses = [status for status, *_ in got.values()]
    assert Status.OK in statuses
    assert {steps for status, steps, *_ in got.values() if status is Status.STOPPED} == {1, 3}
    journalled = {t.id: (t.status, t.steps, t.fom, t.intermediate) for t in read_journal(
        tmp_path / "run" / "f")}  # fmt: skip
    assert journalled == got
    stopped = next(t for t in result.trials if t.status is Status.STOPPED and t.steps == 3)
    assert stopped.metrics == {"FoM": stopped.fom}
    assert stopped.fom == fom(stopped.params["--x"], 3)


def train_logged(params: dict[str, Any], trial: TrialContext) -> float:
    """``train``, writing to ``<--log>/<trial id>`` each step it reaches before reporting
    it: where the function itself stopped, seen from outside a worker process."""
    log = Path(params["--log"], str(trial.id))
    for epoch in range(1, EPOCHS + 1):
        log.write_text(str(epoch))
        trial.report(fom(params["--x"], epoch), step=epoch)
    log.write_text("returned")
    return fom(params["--x"], EPOCHS)


async def train_logged_async(params: dict[str, Any], trial: TrialContext) -> float:
    await anyio.lowlevel.checkpoint()
    return train_logged(params, trial)


@pytest.mark.parametrize("where", ["thread", "coroutine", "process"])
async def test_the_function_itself_stops_at_the_step_the_rule_stops_it(
    tmp_path: Path, where: str
) -> None:
    """report() raises Stopped at once, in every mode: the function goes no step further."""
    evaluator = hyperdeme.Evaluator(
        train_logged_async if where == "coroutine" else train_logged,
        run_path=str(tmp_path / "run"),
        fsync=False,
        early_stopping=RULE,
        function_runs_in="process" if where == "process" else "thread",
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=9, seed=4, name="f")
    space = Params([["--x", 0.5, (0.0, 1.0)], ["--log", str(tmp_path), [str(tmp_path)]]])
    result = await hyperdeme.optimize(opt, space)
    reached = {t.id: (tmp_path / str(t.id)).read_text() for t in result.trials}
    stopped = {t.id: str(t.steps) for t in result.trials if t.status is Status.STOPPED}
    assert stopped
    assert {i: reached[i] for i in stopped} == stopped
    assert all(reached[t.id] == "returned" for t in result.trials if t.ok)


@pytest.mark.parametrize("where", ["thread", "offloaded"])
async def test_reports_from_any_thread_are_heard_on_the_loops_thread(
    tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule's state is the loop's: a report made in a worker thread (the function's
    own, or one a coroutine function starts) runs the listener on the loop's thread."""
    from hyperdeme._engine._stopping import AttemptMonitor

    heard: set[int] = set()
    on_report = AttemptMonitor.on_report

    def spy(self: AttemptMonitor, value: object, step: int | None) -> bool:
        heard.add(threading.get_ident())
        return on_report(self, value, step)

    monkeypatch.setattr(AttemptMonitor, "on_report", spy)
    await run(tmp_path, FUNCTIONS[where], name="f", num_iters=2, early_stopping=RULE)
    assert heard == {threading.get_ident()}


async def test_without_a_rule_steps_are_counted_and_nothing_kept(tmp_path: Path) -> None:
    result = await run(tmp_path, train, name="f", num_iters=2)
    assert [(t.status, t.steps, t.intermediate) for t in result.trials] == [
        (Status.OK, EPOCHS, {}), (Status.OK, EPOCHS, {}),
    ]  # fmt: skip


saved: list[int] = []


def saves_first(params: dict[str, Any], trial: TrialContext) -> float:
    assert not trial.should_stop()
    try:
        return train(params, trial)
    except Stopped:
        assert trial.should_stop()
        saved.append(trial.id)  # save a checkpoint here, then let it go on
        raise


async def test_should_stop_and_saving_before_stopping(
    tmp_path: Path, program_outcomes: dict[int, Any]
) -> None:
    saved.clear()
    result = await run(tmp_path, saves_first, name="f", early_stopping=RULE)
    stopped = [t.id for t in result.trials if t.status is Status.STOPPED]
    assert stopped
    assert saved == stopped
    assert outcomes(result) == program_outcomes


@pytest.mark.parametrize("runs_in", ["thread", "process"])
async def test_a_swallowed_stop_is_still_stopped_at_its_last_report(
    tmp_path: Path, runs_in: str, program_outcomes: dict[int, Any]
) -> None:
    result = await run(tmp_path, swallows, name="f", early_stopping=RULE, function_runs_in=runs_in)
    assert outcomes(result) == program_outcomes  # never the -1.0 it returned
    assert all(t.fom != -1.0 for t in result.trials)


@pytest.mark.parametrize("runs_in", ["thread", "process"])
async def test_a_function_going_on_after_its_stop_is_ended_after_the_grace_period(
    tmp_path: Path, runs_in: str
) -> None:
    """The thread is abandoned, the worker process killed, grace_period after the stop."""
    result = await run(
        tmp_path,
        swallows_and_hangs,
        name="f",
        num_iters=2,
        early_stopping=ASHA(max_steps=3),
        function_runs_in=runs_in,
        grace_period=0.2,
    )
    first, second = sorted(result.trials, key=lambda t: t.id)
    assert first.status is Status.OK
    assert (second.status, second.steps) == (Status.STOPPED, 1)
    assert second.duration < 30


async def test_a_coroutine_going_on_after_its_stop_is_cancelled(tmp_path: Path) -> None:
    cancelled = anyio.Event()

    async def goes_on(params: dict[str, Any], trial: TrialContext) -> float:
        try:
            await train_async(params, trial)
        except Stopped:
            try:
                await anyio.sleep_forever()
            finally:
                cancelled.set()
        return 0.0

    result = await run(
        tmp_path, goes_on, name="f", num_iters=2, early_stopping=ASHA(max_steps=3),
        grace_period=0.1,
    )  # fmt: skip
    assert [t.status for t in sorted(result.trials, key=lambda t: t.id)] == [
        Status.OK, Status.STOPPED,
    ]  # fmt: skip
    assert cancelled.is_set()


async def test_an_abandoned_thread_sees_should_stop(tmp_path: Path) -> None:
    """eval_timeout abandons a thread; its next report raises Stopped instead of running on."""
    started, reported = threading.Event(), threading.Event()
    seen: list[object] = []

    def slow(params: dict[str, Any], trial: TrialContext) -> float:
        started.set()
        while not trial.should_stop():
            threading.Event().wait(0.01)
        try:
            trial.report(1.0)
        except Stopped as stop:
            seen.append(stop)
        reported.set()
        return 0.0

    result = await run(tmp_path, slow, name="f", num_iters=1, eval_timeout=0.3)
    assert [t.status for t in result.trials] == [Status.TIMEOUT]
    assert await anyio.to_thread.run_sync(reported.wait, 10)
    assert started.is_set()
    assert len(seen) == 1


def reports_badly(params: dict[str, Any], trial: TrialContext) -> float:
    trial.report(0.5, step=2)
    trial.report(0.4, step=2)  # not above the previous step
    return 0.4


def reports_text(params: dict[str, Any], trial: TrialContext) -> float:
    trial.report("0.5")  # type: ignore[arg-type]
    return 0.4


@pytest.mark.parametrize("runs_in", ["thread", "process"])
@pytest.mark.parametrize(
    ("function", "error"),
    [
        (
            reports_badly,
            "ConfigError: trial.report(step=...) takes an int above the previous step (2), "
            "got 2; steps count up (epochs, say), each reported once.",
        ),
        (
            reports_text,
            "ConfigError: an evaluation function must return a number or a dict of metrics, "
            "got '0.5'.",
        ),
    ],
)
async def test_a_bad_report_fails_the_trial_saying_why(
    tmp_path: Path, runs_in: str, function: Any, error: str
) -> None:
    before = _report_directories()
    result = await run(tmp_path, function, name="f", num_iters=1, function_runs_in=runs_in)
    [trial] = result.trials
    assert trial.status is Status.FAILED
    assert trial.error.endswith(error)
    assert _report_directories() <= before  # the run removed its report sockets


def _report_directories() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("hyperdeme-reports-*"))


async def test_steps_may_skip_and_default_to_the_next(tmp_path: Path) -> None:
    def sparse(params: dict[str, Any], trial: TrialContext) -> float:
        trial.report(3.0, step=3)
        trial.report(2.0)  # step 4
        trial.report({"FoM": 1.0}, step=9)
        return 1.0

    result = await run(tmp_path, sparse, name="f", num_iters=1, early_stopping=RULE)
    [trial] = result.trials
    assert (trial.status, trial.steps, trial.intermediate) == (Status.OK, 9, {3: 3.0, 9: 1.0})


async def test_a_retry_reports_its_steps_afresh(tmp_path: Path) -> None:
    """The first attempt fails after 5 steps; the retry counts from step 1 again and its
    values replace the first attempt's at the rungs."""
    attempts: list[int] = []

    def flaky(params: dict[str, Any], trial: TrialContext) -> float:
        attempts.append(trial.id)
        for epoch in range(1, 6):
            trial.report(9.0 if len(attempts) == 1 else 1.0 / epoch, step=epoch)
        if len(attempts) == 1:
            raise RuntimeError("the first attempt fails")
        return 0.2

    result = await run(
        tmp_path, flaky, name="f", num_iters=1, early_stopping=RULE, num_retries=1,
        retry_delay=0,
    )  # fmt: skip
    [trial] = result.trials
    assert (trial.status, trial.attempts, trial.steps) == (Status.OK, 2, 5)
    assert trial.intermediate == {1: 1.0, 3: 1.0 / 3}
