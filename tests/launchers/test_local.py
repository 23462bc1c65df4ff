"""The local launcher end to end: real kernels, real process groups, real files."""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest

import hyperdeme
from hyperdeme import EvaluationError, Evaluator, Job, Params, Result, Status, read_journal
from hyperdeme.launchers._local import LocalLauncher
from processes import kill_marked, marked, new_marker

KERNELS = Path(__file__).parents[1] / "kernels"
KERNEL = KERNELS / "kernel.py"
SPACE = Params([["--x", 0.5, (0.0, 1.0)], ["--n", 3, (1, 10)]])


def kernel(*options: str) -> str:
    return shlex.join([sys.executable, str(KERNEL), *options])


def fom_of(params: dict[str, Any]) -> float:
    return float((params["--x"] - 0.3) ** 2 + 0.01 * (params["--n"] - 5) ** 2)


def local(tmp_path: Path, cmd: str, **settings: Any) -> Evaluator:
    """An evaluator whose trials each run in their own directory under ``tmp_path``."""
    settings.setdefault("retry_delay", 0.01)
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    settings.setdefault("src_path", str(source))
    return Evaluator(cmd, workload_manager="local", run_path=str(tmp_path / "run"), **settings)


async def run(
    tmp_path: Path, cmd: str, *, num_iters: int = 1, params: Params = SPACE, **settings: Any
) -> Result:
    opt = hyperdeme.RandomOptimizer(
        local(tmp_path, cmd, **settings), num_iters=num_iters, seed=1, name="exp"
    )
    return await hyperdeme.optimize(opt, params)


def trial_dir(tmp_path: Path, trial_id: int) -> Path:
    return tmp_path / "run" / "exp" / f"{trial_id:05d}"


def journal(tmp_path: Path) -> list[hyperdeme.Trial]:
    return read_journal(tmp_path / "run" / "exp")


def survivors(marker: str) -> list[psutil.Process]:
    """Processes carrying ``marker`` still alive after a short grace (signals are async)."""
    _gone, alive = psutil.wait_procs(marked(marker), timeout=3)
    return list(alive)


@pytest.fixture
def marker() -> Iterator[str]:
    marker = new_marker()
    yield marker
    kill_marked(marker)


class Sink:
    """Collects a stream; ``seen`` is set once ``text`` has arrived."""

    def __init__(self, text: bytes = b"") -> None:
        self.data = bytearray()
        self.text = text
        self.seen = anyio.Event()

    def write(self, data: bytes) -> None:
        self.data += data
        if self.text and self.text in self.data:
            self.seen.set()


def job(command: str, cwd: Path, stdout: Sink, stderr: Sink, **env: str) -> Job:
    return Job(
        trial_id=1,
        attempt=1,
        command=command,
        cwd=cwd,
        env=env,
        nodes=1,
        stdout=stdout,
        stderr=stderr,
    )


# -- the launcher itself ----------------------------------------------------------------


async def test_runs_a_shell_command_in_cwd_with_extra_env(tmp_path: Path) -> None:
    out, err = Sink(), Sink()
    command = 'echo out; echo err >&2; pwd; echo "$HD_VAR"; exit 4'
    exit_ = await LocalLauncher().run(job(command, tmp_path, out, err, HD_VAR="v a"))
    assert exit_.returncode == 4
    assert out.data.decode() == f"out\n{tmp_path}\nv a\n"
    assert err.data == b"err\n"


async def test_a_program_killed_by_a_signal_has_a_negative_exit_code(tmp_path: Path) -> None:
    exit_ = await LocalLauncher().run(job("kill -9 $$", tmp_path, Sink(), Sink()))
    assert exit_.returncode == -9


@pytest.mark.timeout(20)
async def test_leftover_background_processes_are_killed_at_exit(
    tmp_path: Path, marker: str
) -> None:
    sleeper = shlex.join([sys.executable, "-c", "import time; time.sleep(600)", marker])
    out = Sink()
    # the background sleeper keeps stdout open: without the group kill this never returns
    exit_ = await LocalLauncher().run(job(f"{sleeper} & echo FoM: 1", tmp_path, out, Sink()))
    assert exit_.returncode == 0
    assert out.data == b"FoM: 1\n"
    assert survivors(marker) == []


@pytest.mark.timeout(20)
async def test_cancelling_kills_a_program_that_ignores_sigterm(tmp_path: Path, marker: str) -> None:
    stubborn = shlex.join(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(600)", marker]
    )
    out = Sink(b"up")
    launcher = LocalLauncher(grace=0.2)
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(launcher.run, job(f"trap '' TERM; {stubborn}", tmp_path, out, Sink()))
            await out.seen.wait()
            assert len(marked(marker)) == 2  # the shell and python, both ignoring SIGTERM
            scope.cancel()
    assert scope.cancelled_caught
    assert survivors(marker) == []


# -- the five outcomes, end to end ------------------------------------------------------


async def test_ok_trials_write_logs_params_and_journal(tmp_path: Path) -> None:
    result = await run(tmp_path, kernel(), num_iters=4, num_parallel_evals=2)
    assert [t.status for t in result.trials] == [Status.OK] * 4
    for trial in result.trials:
        assert trial.fom == pytest.approx(fom_of(trial.params))
        assert trial.attempts == 1
        assert trial.returncode == 0
        directory = trial_dir(tmp_path, trial.id)
        assert json.loads((directory / "params.json").read_text()) == trial.params
        assert (directory / "stdout.log").read_text().startswith("FoM: ")
        assert (directory / "stderr.log").read_text() == ""
    assert sorted(t.id for t in journal(tmp_path)) == [1, 2, 3, 4]
    assert result.best_fom == min(t.fom for t in result.trials)


async def test_a_failing_program_is_recorded_with_exit_code_and_stderr(tmp_path: Path) -> None:
    result = await run(tmp_path, kernel("--exit=7"))
    [trial] = journal(tmp_path)
    assert (trial.status, trial.returncode) == (Status.FAILED, 7)
    assert trial.error == "kernel: exiting with 7 as asked"
    assert result.n_failed == 1
    assert result.best_fom == float("inf")


async def test_a_program_that_prints_no_metric(tmp_path: Path) -> None:
    await run(tmp_path, kernel("--silent"))
    [trial] = journal(tmp_path)
    assert (trial.status, trial.returncode) == (Status.NO_METRIC, 0)
    assert "FoM" in trial.error


@pytest.mark.timeout(30)
async def test_eval_timeout_kills_the_program_and_its_grandchildren(
    tmp_path: Path, marker: str
) -> None:
    cmd = kernel("--hang", "--grandchildren=2", f"--marker={marker}")
    await run(tmp_path, cmd, eval_timeout=1.5)
    [trial] = journal(tmp_path)
    assert trial.status is Status.TIMEOUT
    assert "eval_timeout=1.5" in trial.error
    assert (trial_dir(tmp_path, 1) / "stdout.log").read_text() == "started\n"
    assert survivors(marker) == []


async def test_retries_succeed_and_keep_earlier_attempt_logs(tmp_path: Path) -> None:
    cmd = kernel("--fail-first=2", f"--state={tmp_path / 'state'}")
    result = await run(tmp_path, cmd, num_retries=2)
    [trial] = result.trials
    assert (trial.status, trial.attempts) == (Status.OK, 3)
    assert trial.fom == pytest.approx(fom_of(trial.params))
    directory = trial_dir(tmp_path, 1)
    assert "simulated failure 1 of 2" in (directory / "stderr.attempt1.log").read_text()
    assert "simulated failure 2 of 2" in (directory / "stderr.attempt2.log").read_text()
    assert (directory / "stdout.attempt1.log").read_text() == "FoM: 0\n"
    assert (directory / "stderr.log").read_text() == ""
    assert journal(tmp_path)[0].attempts == 3


async def test_retries_run_out(tmp_path: Path) -> None:
    cmd = kernel("--fail-first=5", f"--state={tmp_path / 'state'}")
    await run(tmp_path, cmd, num_retries=1)
    [trial] = journal(tmp_path)
    assert (trial.status, trial.attempts, trial.returncode) == (Status.FAILED, 2, 1)
    assert trial.error == "kernel: simulated failure 2 of 5"


@pytest.mark.timeout(30)
async def test_cancelling_the_run_kills_everything_and_journals_what_ran(
    tmp_path: Path, marker: str
) -> None:
    state = tmp_path / "state"
    cmd = kernel("--hang-after=3", f"--state={state}", f"--marker={marker}")

    async def cancel_when_four_hang(scope: anyio.CancelScope) -> None:
        # waiting for other processes: a bounded poll of the tickets they take
        with anyio.fail_after(20):
            while len(list(state.glob("*"))) < 7:  # noqa: ASYNC110 - files, not events
                await anyio.sleep(0.01)
        scope.cancel()

    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(cancel_when_four_hang, scope)
            await run(tmp_path, cmd, num_iters=20, num_parallel_evals=4)
    assert scope.cancelled_caught
    statuses = sorted((t.id, t.status) for t in journal(tmp_path))
    assert [s for _, s in statuses].count(Status.OK) == 3
    assert [s for _, s in statuses].count(Status.CANCELLED) == 4
    assert [i for i, _ in statuses] == list(range(1, 8))
    assert survivors(marker) == []


@pytest.mark.timeout(30)
async def test_the_run_timeout_returns_the_best_so_far(tmp_path: Path, marker: str) -> None:
    state = tmp_path / "state"
    cmd = kernel("--hang-after=3", f"--state={state}", f"--marker={marker}")
    result = await run(tmp_path, cmd, num_iters=50, num_parallel_evals=2, timeout=0.02)
    assert result.expired
    by_status = {s: sorted(t.id for t in result.trials if t.status is s) for s in Status}
    # the first three runs to start finish (trials 3 and 4 race for the third ticket)
    assert len(by_status[Status.OK]) == 3
    assert len(by_status[Status.CANCELLED]) == 2
    assert sorted(by_status[Status.OK] + by_status[Status.CANCELLED]) == [1, 2, 3, 4, 5]
    assert result.best_fom == min(t.fom for t in result.trials if t.ok)
    assert sorted(t.id for t in journal(tmp_path)) == [1, 2, 3, 4, 5]
    # nothing started after the budget ran out (a trial cancelled before the process
    # service started it is never started: 3 to 5 took a ticket)
    assert 3 <= len(list(state.glob("*"))) <= 5
    assert survivors(marker) == []


@pytest.mark.timeout(60)
async def test_early_stopping_kills_a_hopeless_program_and_its_process_group(
    tmp_path: Path, marker: str
) -> None:
    """The first trial (the defaults: the best x and n) prints 4 epochs and exits; the others
    print a worse first epoch, then hang with two grandchildren: ASHA stops each at rung 1 and
    the whole process group dies."""
    state = tmp_path / "state"
    cmd = kernel(
        "--epochs=4",
        "--hang-after=1",
        "--grandchildren=2",
        f"--state={state}",
        f"--marker={marker}",
    )
    space = Params([["--x", 0.3, (0.0, 1.0)], ["--n", 5, (1, 10)]])
    rule = hyperdeme.ASHA(max_steps=4, reduction_factor=2)  # rungs 1 and 2
    result = await run(tmp_path, cmd, num_iters=3, params=space, early_stopping=rule)
    assert [(t.status, t.steps) for t in result.trials] == [
        (Status.OK, 4), (Status.STOPPED, 1), (Status.STOPPED, 1),
    ]  # fmt: skip
    assert result.trials[0].fom == pytest.approx(0.25)
    for trial in result.trials[1:]:
        assert trial.fom == pytest.approx(fom_of(trial.params) + 1)
        lines = (trial_dir(tmp_path, trial.id) / "stdout.log").read_text().splitlines()
        assert lines == [f"epoch 1: FoM: {trial.fom!r}"]
    assert (result.n_stopped, result.n_failed, result.best_trial) == (2, 0, result.trials[0])
    assert [(t.status, t.steps, t.intermediate) for t in journal(tmp_path)] == [
        (t.status, t.steps, t.intermediate) for t in result.trials
    ]
    assert survivors(marker) == []


# -- what reaches the program ---------------------------------------------------------


async def test_shell_metacharacters_in_values_arrive_literally(tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    values = [
        "safe",
        f"; touch {pwned}",
        f"$(touch {pwned})",
        f"`touch {pwned}`",
        f"x' && touch {pwned} && '",
        "two words",
    ]
    # one parameter per value, each defaulting to it: the baseline trial carries them all
    params = Params([[f"--opt{i}", value, [value, "other"]] for i, value in enumerate(values)])
    argv_file = tmp_path / "argv.jsonl"
    result = await run(tmp_path, kernel(f"--argv-file={argv_file}"), params=params)
    assert result.trials[0].ok
    [argv] = [json.loads(line) for line in argv_file.read_text().splitlines()]
    assert argv[-len(values) :] == [f"--opt{i}={value}" for i, value in enumerate(values)]
    assert not pwned.exists()


async def test_weighted_metrics_from_a_real_program(tmp_path: Path) -> None:
    cmd = kernel("--print=loss: 2.5", "--print=time: 1e1", "--print=loss: 0.5")
    result = await run(tmp_path, cmd, metric={"loss": 0.7, "time": -0.3})
    [trial] = result.trials
    assert trial.metrics == {"loss": 0.5, "time": 10.0}
    assert trial.fom == pytest.approx(0.7 * 0.5 - 0.3 * 10.0)


async def test_src_path_runs_each_trial_in_its_own_linked_tree(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "data.txt").write_text("the data set\n")
    cmd = kernel("--write=out.txt", "--read=data.txt")
    await run(tmp_path, cmd, num_iters=2, src_path=str(src))
    for trial_id in (1, 2):
        directory = trial_dir(tmp_path, trial_id)
        assert (directory / "data.txt").is_symlink()
        assert (directory / "stdout.log").read_text().startswith("the data set\nFoM: ")
        out = directory / "out.txt"
        assert not out.is_symlink()
        assert out.read_text() == f"written by trial in {directory}\n"
    assert sorted(p.name for p in src.iterdir()) == ["data.txt"]


@pytest.mark.timeout(30)
async def test_a_command_that_cannot_work_fails_fast(tmp_path: Path) -> None:
    cmd = f"{shlex.quote(sys.executable)} no_such_file.py"
    with pytest.raises(EvaluationError) as caught:
        await run(tmp_path, cmd, num_iters=100, num_parallel_evals=2, num_retries=1)
    error = caught.value
    message = str(error)
    assert "no_such_file.py" in message
    assert "exit code 2" in message
    assert "can't open file" in message
    assert error.command is not None
    assert error.command.startswith(cmd)
    assert error.returncode == 2
    assert "No such file or directory" in error.stderr_tail
    trials = journal(tmp_path)
    assert 3 <= len(trials) <= 5  # three failures proved it; the rest were cancelled


# -- scale ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_gigabyte_of_output_streams_through_in_constant_memory(
    tmp_path: Path,
) -> None:
    me = psutil.Process()
    before = me.memory_info().rss
    peak = before
    done = anyio.Event()

    async def sample() -> None:  # measurement, not synchronisation
        nonlocal peak
        while not done.is_set():
            peak = max(peak, me.memory_info().rss)
            await anyio.sleep(0.01)

    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        tg.start_soon(sample)
        result = await run(tmp_path, kernel(f"--huge={1 << 30}"))
        done.set()
    elapsed = time.monotonic() - started
    [trial] = result.trials
    log = trial_dir(tmp_path, 1) / "stdout.log"
    try:
        assert trial.status is Status.OK
        assert trial.fom == pytest.approx(fom_of(trial.params))
        assert log.stat().st_size > 1 << 30
    finally:
        log.unlink()  # do not leave a gigabyte in the temp directory
    growth = max(peak, me.memory_info().rss) - before
    print(f"1 GiB of output: {elapsed:.2f} s, driver RSS growth {growth / 2**20:.1f} MiB")
    assert growth < 50 * 2**20


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_two_hundred_evaluations_through_eight_slots(tmp_path: Path) -> None:
    cmd = f"sh {shlex.quote(str(KERNELS / 'fast.sh'))}"
    started = time.monotonic()
    result = await run(tmp_path, cmd, num_iters=200, num_parallel_evals=8, fsync=True)
    elapsed = time.monotonic() - started
    print(f"200 evaluations through 8 slots: {elapsed:.2f} s")
    trials = journal(tmp_path)
    assert sorted(t.id for t in trials) == list(range(1, 201))
    assert all(t.status is Status.OK and t.fom == t.params["--x"] for t in trials)
    assert len(result.trials) == 200


# -- mutants killed (scripts/mutants) ---------------------------------------------------

#: traps SIGTERM, notes it, and would note "late" 10 s later: a grace of 0.2 s ends it first
LINGER = (
    "import signal, sys, time\n"
    "notes = open(sys.argv[1], 'a', buffering=1)\n"
    "signal.signal(signal.SIGTERM, lambda *a: notes.write('TERM\\n'))\n"
    "sys.stdout.write('up\\n'); sys.stdout.flush()\n"
    "deadline = None\n"
    "while True:\n"
    "    time.sleep(0.01)\n"
    "    if deadline is None and notes.tell():\n"
    "        deadline = time.monotonic() + 10\n"
    "    if deadline is not None and time.monotonic() > deadline:\n"
    "        notes.write('late\\n')\n"
    "        sys.exit(0)\n"
)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("options", "grace"),
    [
        (hyperdeme.LauncherOptions(grace_period=0.2), None),  # the Evaluator's grace_period
        (hyperdeme.LauncherOptions(grace_period=30.0), 0.2),  # the launcher's own wins
    ],
)
async def test_a_stop_gives_the_program_the_grace_it_was_given(
    tmp_path: Path, options: hyperdeme.LauncherOptions, grace: float | None
) -> None:
    """SIGTERM, then the grace period the launcher was given (its own ``grace``, else the
    options' ``grace_period``), then SIGKILL: a program that lingers 10 s after SIGTERM is
    killed before it can note "late" (under another grace it would be)."""
    notes = tmp_path / "notes"
    notes.touch()
    command = shlex.join(["exec", sys.executable, "-c", LINGER, str(notes)])
    out = Sink(b"up")
    launcher = LocalLauncher(options, grace=grace)
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(launcher.run, job(command, tmp_path, out, Sink()))
            await out.seen.wait()
            scope.cancel()
    assert scope.cancelled_caught
    assert notes.read_text().splitlines() == ["TERM"]
