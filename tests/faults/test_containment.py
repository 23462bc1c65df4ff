"""Nothing orphaned, whatever a trial's processes do (issue 18, items 1-3).

Every trial runs ``kernels/daemons.sh``, which leaves three daemons: one out of its
session with an empty environment (``setsid env -i``), one out of its session with
its environment, one double-forked. Survivors are counted with psutil over the
whole machine, by the test's marker in their argv.

* a clean run leaves none, with a cgroup per run (root here; CI runs as root) and
  with the driver as a child subreaper (the fallback without a cgroup);
* the mark fallback (``HYPERDEME_CONTAINMENT=mark``) stops what keeps its
  environment or its process group, and cannot stop the ``env -i`` daemon: the
  test says so by expecting exactly those to survive;
* a trial's daemons are gone when that trial is reported, while the run goes on;
* the watchdog SIGKILLed while trials hang is restarted, holding what the old
  one held: the driver SIGKILLed then leaves nothing;
* a watchdog that is gone for good (restarts forbidden): the driver stops what
  carries the run's mark itself at the run's end;
* a soak: 100 runs per backend (1-3 trials each) with the watchdog and the driver
  (a subprocess, ``kernels/contain_driver.py``) SIGKILLed at seeded random moments.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import psutil
import pytest
from anyio.abc import Process
from structlog.testing import capture_logs

import hyperdeme
from hyperdeme.launchers import _watchdog
from hyperdeme.launchers._contain import _make_cgroup
from hyperdeme.launchers._watchdog import PROGRAM
from kernels.contain_driver import SPACE, optimizer
from processes import kill_marked, marked

from .support import await_for, describe, survivors

DRIVER = Path(__file__).parents[1] / "kernels" / "contain_driver.py"
KINDS = ("envi", "keep", "fork")


def cgroup_writable() -> bool:
    path = _make_cgroup(f"hyperdeme-probe-{os.getpid()}")
    if path:
        os.rmdir(path)
    return bool(path)


def require_cgroup() -> None:
    """Skip where no cgroup v2 can be made (fail under CI, which runs as root)."""
    if cgroup_writable():
        return
    if os.environ.get("CI"):
        pytest.fail("CI must run the containment tests where a cgroup v2 can be made (root)")
    pytest.skip("needs a writable cgroup v2 hierarchy (root)")


def daemons(marker: str, kind: str, trial: str = "") -> list[str]:
    """Live daemons.sh daemons of this test of one kind (of one trial: its directory)."""
    return describe((f"{marker}-{kind}-{trial}",))


async def run(tmp_path: Path, marker: str, backend: str, **settings: object) -> list[dict]:
    """One run of daemons.sh in this process; the run's log events."""
    opt = optimizer(tmp_path, marker=marker, name="exp", **settings)  # type: ignore[arg-type]
    with capture_logs() as logs:
        result = await hyperdeme.optimize(opt, SPACE)
    assert [t.status.value for t in result.trials] == ["ok"] * len(result.trials)
    return logs


@pytest.mark.parametrize("containment", ["cgroup", "subreaper"])
async def test_a_clean_run_leaves_no_daemon_behind(
    tmp_path: Path, marker: str, anyio_backend: str, containment: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """2 trials on 2 slots, 6 daemons started: none survives the run. (Without a
    cgroup a daemon out of the group holds the output pipes: each trial then waits
    the 2 s drain.)"""
    if containment == "cgroup":
        require_cgroup()
    monkeypatch.setenv("HYPERDEME_CONTAINMENT", containment)
    logs = await run(tmp_path, marker, anyio_backend, iters=2, slots=2)
    started = [e for e in logs if e["event"] == "run.started"]
    assert started[0]["containment"] == containment
    assert (tmp_path / "exp" / "00001" / "envi-up").exists()  # the daemons did start
    assert await survivors(f"{marker}-", within=0.5) == []


async def test_the_mark_fallback_stops_what_keeps_its_mark_or_group(
    tmp_path: Path, marker: str, anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a cgroup or a subreaper, the daemons that keep the environment (the
    marks) or the process group are stopped; a ``setsid env -i`` one cannot be found
    (documented in the guide): exactly those survive, one per trial."""
    monkeypatch.setenv("HYPERDEME_CONTAINMENT", "mark")
    logs = await run(tmp_path, marker, anyio_backend, iters=2, slots=2)
    assert [e["containment"] for e in logs if e["event"] == "run.started"] == ["mark"]
    try:
        assert daemons(marker, "keep") == []
        assert daemons(marker, "fork") == []
        assert len(daemons(marker, "envi")) == 2, describe((marker,))
    finally:
        kill_marked(f"{marker}-envi-")


@pytest.mark.parametrize("containment", ["cgroup", "mark"])
async def test_a_trials_daemons_are_stopped_when_it_ends_while_the_run_goes_on(
    tmp_path: Path, marker: str, anyio_backend: str, containment: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """3 trials, one at a time, streamed: when a trial arrives, its daemons are gone
    (all three with a cgroup; those keeping the mark or the group with the mark),
    and the next trial's are running or about to."""
    if containment == "cgroup":
        require_cgroup()
    monkeypatch.setenv("HYPERDEME_CONTAINMENT", containment)
    opt = optimizer(tmp_path, marker=marker, name="exp", iters=3, slots=1)
    kinds = KINDS if containment == "cgroup" else ("keep", "fork")
    seen = []
    try:
        async with hyperdeme.stream(opt, SPACE) as trials:
            async for trial in trials:
                directory = f"{trial.id:05d}"  # the trial's directory, named by its id
                assert (tmp_path / "exp" / directory / "keep-up").exists()
                left = [d for kind in kinds for d in daemons(marker, kind, directory)]
                assert left == [], f"trial {trial.id} ended, its daemons run on: {left}"
                seen.append(trial.id)
        assert seen == [1, 2, 3]
    finally:
        kill_marked(f"{marker}-")


def watchdogs(root: Path, *, of: int | None = None) -> list[psutil.Process]:
    """The watchdog processes of runs under ``root`` (their argv names both), of the
    driver ``of`` only if given (not those of a killed driver, still stopping its run)."""
    found = []
    for process in marked(str(root)):
        try:
            if PROGRAM in process.cmdline() and of in (None, process.ppid()):
                found.append(process)
        except psutil.Error:
            continue
    return found


async def test_a_killed_watchdog_is_restarted_holding_what_the_old_one_held(
    tmp_path: Path, marker: str, anyio_backend: str
) -> None:
    """Trials hang with their daemons; the watchdog is SIGKILLed 1-3 times (seeded
    moments): each time a new one runs within a second. Then the driver is SIGKILLed:
    the last watchdog stops every trial and every daemon."""
    rng = random.Random(f"restart/{anyio_backend}")
    argv = [sys.executable, str(DRIVER), str(tmp_path), f"--marker={marker}",
            f"--backend={anyio_backend}", "--iters=2", "--slots=2", "--hang=300"]  # fmt: skip
    driver = await anyio.open_process(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        up = lambda: len(daemons(marker, "envi")) == 2  # noqa: E731
        await await_for(up, within=30, what="2 trials with their daemons")
        for kill in range(rng.randint(1, 3)):
            await anyio.sleep(rng.uniform(0.0, 0.3))
            (old,) = watchdogs(tmp_path)
            old.kill()
            await await_for(
                lambda old=old: [w.pid for w in watchdogs(tmp_path)] not in ([], [old.pid]),
                within=2, what=f"a watchdog restarted after kill {kill + 1}",
            )  # fmt: skip
        await anyio.sleep(0.3)  # the restarted watchdog has read what is held
        os.kill(driver.pid, signal.SIGKILL)
    finally:
        driver.kill()
        await driver.aclose()
    assert await survivors(f"{marker}-", within=10.0) == []
    assert await survivors(f"bash {DRIVER.with_name('daemons.sh')} {marker}", within=1.0) == []


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a driver that just died is a zombie until reaped: killing
    its watchdog then would be a double death, the resume's case)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def soak_argv(root: Path, marker: str, backend: str, first: int, count: int) -> list[str]:
    return [sys.executable, str(DRIVER), str(root), f"--marker={marker}",
            f"--backend={backend}", f"--first={first}", f"--count={count}",
            f"--seed={backend}"]  # fmt: skip


def progress(root: Path) -> tuple[int, int]:
    """The last run started and the number of runs done (``-1, 0`` before any)."""
    try:
        lines = (root / "progress").read_text().split()
    except FileNotFoundError:
        return -1, 0
    started = [int(n) for word, n in zip(lines[::2], lines[1::2], strict=True) if word == "started"]
    done = sum(1 for word in lines[::2] if word == "done")
    return (started[-1] if started else -1), done


@pytest.mark.parametrize("runs", [100])
async def test_soak_nothing_survives_runs_whose_watchdog_and_driver_are_killed(
    tmp_path: Path, marker: str, anyio_backend: str, runs: int
) -> None:
    """``runs`` runs of 1-3 trials each leaving three daemons, in driver processes
    each SIGKILLed after a random 0.3-3 s (a new driver goes on with the next run),
    their watchdogs SIGKILLed at random moments between (never both at once: a
    driver and its watchdog killed together is the resume's case, test_watchdog.py).
    Zero survivors at the end, counted over the whole machine."""
    rng = random.Random(f"soak/{anyio_backend}")
    kills = restarts = 0
    first = 0
    errors = tmp_path / "stderr"
    while first < runs:
        sink = os.open(errors, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        driver = await anyio.open_process(
            soak_argv(tmp_path, marker, anyio_backend, first, runs - first),
            stdout=subprocess.DEVNULL, stderr=sink,
        )  # fmt: skip
        os.close(sink)
        lifetime = anyio.current_time() + rng.uniform(0.3, 3.0)
        while driver.returncode is None and anyio.current_time() < lifetime:
            await anyio.sleep(rng.uniform(0.05, 0.5))
            found = watchdogs(tmp_path, of=driver.pid)
            if running(driver.pid) and found and rng.random() < 0.5:
                for watchdog in found:
                    watchdog.kill()
                restarts += await _restarted(tmp_path, driver, {w.pid for w in found})
        if driver.returncode is None:
            driver.kill()
            kills += 1
        assert await driver.wait() in (0, -signal.SIGKILL), errors.read_text()[-3000:]
        last, _ = progress(tmp_path)
        first = max(first, last + 1)
    assert kills > 0, "no driver was killed: a soak of nothing"
    assert restarts > 0, "no watchdog was killed and restarted: a soak of nothing"
    left = await survivors(f"{marker}-", f"bash {DRIVER.with_name('daemons.sh')}", within=10.0)
    assert left == [], f"{kills} drivers and {restarts} watchdogs killed: {left}"


async def _restarted(root: Path, driver: Process, killed: set[int]) -> int:
    """Wait (up to 2 s) for a watchdog of ``driver`` other than those killed, or the
    driver's end: 1 if a watchdog runs again."""
    new: Callable[[], bool] = lambda: bool(  # noqa: E731
        {w.pid for w in watchdogs(root, of=driver.pid)} - killed
    )
    with anyio.move_on_after(2.0):
        await await_for(lambda: new() or driver.returncode is not None, within=3, what="")
    return int(new())


async def test_the_driver_sweeps_at_the_end_when_its_watchdog_is_gone(
    tmp_path: Path, marker: str, anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watchdog SIGKILLed after trial 1 and not restarted (restarts forbidden
    here); trial 2 leaves a daemon that dropped its trial's mark but kept the run's
    (a per-trial sweep cannot see it, only the run's end): the driver stops it itself."""
    monkeypatch.setenv("HYPERDEME_CONTAINMENT", "mark")
    monkeypatch.setattr(_watchdog, "MAX_RESTARTS", 0)
    kernel = tmp_path / "kernel.sh"
    kernel.write_text(
        f"setsid env -u HYPERDEME_TRIAL bash -c ': >up; exec -a {marker}-run-$0 sleep 300' "
        '"$(basename "$PWD")" &\n'
        "until [ -e up ]; do sleep 0.005; done\n"
        'echo "FoM: 1"\n'
    )
    opt = optimizer(tmp_path, marker=marker, name="exp", iters=2, slots=1, command=f"bash {kernel}")
    with capture_logs() as logs:
        async with hyperdeme.stream(opt, SPACE) as trials:
            async for trial in trials:
                if trial.id == 1:
                    (watchdog,) = watchdogs(tmp_path)
                    watchdog.kill()
                    watchdog.wait(5)
    assert "watchdog.gone" in [e["event"] for e in logs]
    assert "watchdog.restarted" not in [e["event"] for e in logs]
    assert (tmp_path / "exp" / "00002" / "up").exists()  # trial 2's daemon did start
    assert await survivors(f"{marker}-run-", within=0.5) == []
