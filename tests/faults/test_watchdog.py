"""The watchdog's own faults: killed together with its driver, or unable to write its record.

Injected into a real driver process (``kernels/fault_driver.py``, asyncio and trio):

* SIGKILL of the watchdog and then at once of its driver (the OOM killer taking both):
  the evaluations they leave running are stopped by the next driver of the
  experiment (``resume=True``), which reads the watchdog's record before it starts
  anything, 3 times per backend at seeded moments;
* a full disk (tmpfs, root) when the watchdog must rewrite its record, then SIGKILL
  of the driver: its evaluations must still be stopped within seconds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import anyio
import psutil
import pytest

import hyperdeme
from kernels.fault_driver import SPACE, optimizer
from processes import kill_marked, marked

from .support import (
    PAGE,
    await_for,
    check_exactly_once,
    driver_argv,
    fill,
    side_log,
    snapshot,
    survivors,
)

NUM_ITERS = 12
WATCHDOG = ".watchdog.json"


def watchdog_of(experiment: Path) -> psutil.Process | None:
    """The watchdog process of the driver running ``experiment`` (its argv names its record)."""
    found = marked(str(experiment / WATCHDOG))
    return found[0] if found else None


@pytest.mark.parametrize("repeat", range(3))
async def test_what_a_driver_and_its_watchdog_leave_running_is_stopped_on_resume(
    tmp_path: Path, src: Path, marker: str, anyio_backend: str, repeat: int
) -> None:
    """Four kernels hang (with stubborn grandchildren) once the watchdog's record lists
    their groups (it is rewritten at most every 0.1 s: groups younger than that are
    documented to be missed by such a double death). Both processes are SIGKILLed;
    everything of the four groups is still alive; the experiment is resumed (with a
    kernel that no longer hangs): every process the dead driver left is stopped, and
    the experiment finishes exactly once."""
    seed = f"watchdog-and-driver/{anyio_backend}/{repeat}"
    slots = random.Random(seed).randint(1, 4)
    case = f"seed {seed!r}: {slots} hung kernels"
    run, side2 = tmp_path / "run", tmp_path / "side2"
    experiment = run / "exp"
    argv = driver_argv(
        run, marker, src, anyio_backend, "--stream", kernel="--stubborn --hang-above=-1",
        num_iters=NUM_ITERS, slots=slots,
    )  # fmt: skip
    driver = await anyio.open_process(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        hung = f"{marker}-hang"
        await await_for(lambda: len(marked(hung)) == slots, within=30, what=case)
        groups = {os.getpgid(p.pid) for p in marked(hung)}
        await await_for(
            lambda: recorded(experiment) == groups, within=5, what=f"{case}: the record"
        )
        watchdog = watchdog_of(experiment)
        assert watchdog is not None, case
        watchdog.kill()
        os.kill(driver.pid, signal.SIGKILL)
    finally:
        driver.kill()
        await driver.aclose()
    left = {p.pid for p in marked(marker)}
    assert {os.getpgid(pid) for pid in left} == groups, f"{case}: the hung groups live on"
    journal = experiment / "trials.jsonl"
    before = snapshot(journal)

    resumed = optimizer(
        run, marker=marker, src_path=src, kernel="--stubborn", side_log=side2,
        num_iters=NUM_ITERS, slots=slots, backend=anyio_backend,
    )  # fmt: skip
    result = await hyperdeme.optimize(resumed, SPACE, resume=True)
    check_exactly_once(before, snapshot(journal), side_log(side2), result, NUM_ITERS, case)
    still = sorted(pid for pid in left if not _gone(pid))
    assert still == [], f"{case}: left by the dead driver and never stopped: {still}"
    assert await survivors(marker, str(run), within=1.0) == [], case


def recorded(experiment: Path) -> set[int]:
    """The process groups the watchdog's record lists."""
    try:
        saved = json.loads((experiment / WATCHDOG).read_text())
        return {entry["pgid"] for entry in saved["held"] if "pgid" in entry}
    except (OSError, ValueError):
        return set()


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_a_driver_killed_after_its_watchdog_met_a_full_disk_orphans_nothing(
    tmp_path: Path,
    src: Path,
    marker: str,
    anyio_backend: str,
    tmpfs: Callable[[Path, int], Path],
) -> None:
    """Four kernels hang; the disk fills up; one kernel then ends, so its group is
    released and the watchdog rewrites its record, on the full disk (the trial, whose
    log cannot be written there, is the machine's failure and is tried again). Then the
    driver is SIGKILLed: the hung kernels must not outlive it."""
    for pad in (0, 2048):
        attempt = f"{marker}p{pad}"  # the kernels of each attempt carry marker too
        disk = tmpfs(tmp_path / f"disk{pad}", 1 << 20)
        if await _kill_on_a_full_disk(disk, src, attempt, anyio_backend, pad):
            break
        kill_marked(attempt)  # too little room: that driver was killed before the fill
    else:
        pytest.fail("the journal's last page never had room for a trial record")
    left = await survivors(marker, within=8.0)  # the watchdog waits grace_period (5 s)
    assert left == [], f"survived the driver (its watchdog met a full disk): {left}"


async def _kill_on_a_full_disk(disk: Path, src: Path, marker: str, backend: str, pad: int) -> bool:
    """The scenario above; False when the journal's last page had too little room."""
    run = disk / "run"
    journal = run / "exp" / "trials.jsonl"
    hung = f"{marker}-hang"
    argv = driver_argv(
        run, marker, src, backend, "--stream", kernel=f"--hang-above=-1 --pad={'p' * pad}",
        num_iters=4,
    )  # fmt: skip
    driver = await anyio.open_process(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await await_for(lambda: len(marked(hung)) == 4, within=30, what="4 hung kernels")
        if -journal.stat().st_size % PAGE < 1024:  # for the trial record of the one to end
            return False
        fill(disk)
        watchdog = watchdog_of(run / "exp")
        assert watchdog is not None
        # that kernel ends: its group is released and the watchdog rewrites its record,
        # on the full disk (its trial, whose log cannot be written there, is the machine's
        # failure and is tried again: no record of it is awaited)
        first = marked(hung)[0]
        first.kill()
        await await_for(lambda: not first.is_running(), within=10, what="that kernel's end")
        with anyio.move_on_after(1.0):  # time for the watchdog to handle the release
            await await_for(lambda: not watchdog.is_running(), within=2, what="")
        os.kill(driver.pid, signal.SIGKILL)
        return True
    finally:
        driver.kill()
        await driver.aclose()
