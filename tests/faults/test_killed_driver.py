"""A driver killed at a random moment loses nothing, orphans nothing, resumes exactly once.

Injected: SIGKILL, SIGINT (Ctrl-C) or SIGTERM (a batch system ending the job),
sent to a real driver process (``kernels/fault_driver.py``: 30 evaluations of
``faulty.sh``, 4 at a time, on asyncio or trio) at a moment a seeded
``random.Random`` picks: while it starts up, or after the journal holds ``k``
finished trials plus up to 50 ms. Each kernel leaves a grandchild in its process
group (sometimes one that ignores SIGTERM), and logs every evaluation it
completes, with its parameters, to a side file per phase. Then the experiment
is resumed in the test's process (``resume=True``), and:

* nothing lost: every trial the driver reported is in the journal, as reported;
  every complete journal line is a record;
* nothing orphaned: no kernel, grandchild or watchdog survives the driver
  (SIGINT/SIGTERM: the driver stopped them itself before exiting; SIGKILL: its
  watchdog does within a few seconds);
* exactly once: the resumed experiment ends with trials 1..30, each finished
  once; no trial journalled as finished before the kill is evaluated again, every
  other one is (interrupted ones included), each once; the journal's
  ``interrupted`` and ``resumed`` records name the interrupted trials.

The seed of a failing case is in its assertion message; it reproduces.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

import hyperdeme
from hyperdeme import HyperdemeWarning, Status
from kernels.fault_driver import SPACE, optimizer
from processes import kill_marked

from .support import (
    Snapshot,
    await_for,
    check_exactly_once,
    driver_argv,
    reported,
    side_log,
    snapshot,
    survivors,
    trial_records,
)

NUM_ITERS, SLOTS = 30, 4
REPEATS = 20
EXIT_CODES = {
    signal.SIGKILL: {-signal.SIGKILL},
    # KeyboardInterrupt re-raised as the signal; a driver still starting up is killed
    signal.SIGINT: {-signal.SIGINT, 128 + signal.SIGINT},
    # SystemExit(143) from the blocking run; the default action before it is set up
    signal.SIGTERM: {128 + signal.SIGTERM, -signal.SIGTERM},
}


@dataclass(frozen=True)
class Moment:
    """When the signal is sent: ``delay`` s after the driver starts (``after`` None), or
    ``delay`` s after the journal holds ``after`` finished trials."""

    after: int | None
    delay: float

    @classmethod
    def draw(cls, rng: random.Random) -> Moment:
        if rng.random() < 0.1:
            return cls(None, rng.uniform(0.0, 0.8))
        return cls(rng.randrange(0, NUM_ITERS - 3 * SLOTS), rng.uniform(0.0, 0.05))

    def __str__(self) -> str:
        if self.after is None:
            return f"{self.delay:.3f} s after the driver started"
        return f"{self.delay:.3f} s after the journal held {self.after} finished trials"


@pytest.mark.slow  # 120 cases, about two minutes: run by scripts/test all the same
@pytest.mark.timeout(90)
@pytest.mark.parametrize("repeat", range(REPEATS))
@pytest.mark.parametrize(
    "sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name
)
async def test_a_killed_driver_loses_nothing_orphans_nothing_and_resumes_exactly_once(
    tmp_path: Path, src: Path, marker: str, anyio_backend: str, sig: signal.Signals, repeat: int
) -> None:
    seed = f"{sig.name}/{anyio_backend}/{repeat}"
    rng = random.Random(seed)
    moment = Moment.draw(rng)
    # a grandchild that ignores SIGTERM makes the watchdog wait its grace: not always
    stubborn = sig is not signal.SIGKILL or rng.random() < 0.25
    kernel = "--stubborn" if stubborn else ""
    case = f"seed {seed!r}: {sig.name} {moment}{', stubborn grandchildren' if stubborn else ''}"
    run = tmp_path / "run"
    journal = run / "exp" / "trials.jsonl"
    side1, side2, report = tmp_path / "side1", tmp_path / "side2", tmp_path / "report"
    argv = driver_argv(
        run, marker, src, anyio_backend, kernel=kernel, side_log=side1, report=report,
        num_iters=NUM_ITERS, slots=SLOTS,
    )  # fmt: skip
    if sig is signal.SIGKILL:
        argv.append("--stream")  # reports each trial as it arrives: nothing else survives
    code, at_signal = await _kill(argv, tmp_path / "stderr", sig, moment, journal)
    stderr = (tmp_path / "stderr").read_text()[-3000:]
    case += f" (driver exited {code})"
    if code == 0:  # only if every trial had finished when the signal came (rare)
        assert at_signal == NUM_ITERS, f"{case}: the signal was swallowed, the run went on"
    else:
        # positive control: the driver was still running and died of the signal (its exit
        # says so). Usually trials were still to come; when the journal already held all of
        # them (a quiet machine), the signal landed while the run was closing, which must
        # keep the promises as well.
        assert code in EXIT_CODES[sig], f"{case}: unexpected exit\n{stderr}"

    # nothing orphaned: kernels and grandchildren carry the marker, the watchdog's argv
    # names its record in the experiment directory (asserted last, so that a failure
    # here does not hide the other promises; the survivors are killed meanwhile)
    # SIGKILL: the watchdog waits grace_period (5 s by default) before its SIGKILL
    within = 8.0 if sig is signal.SIGKILL else 1.5
    orphans = await survivors(marker, str(run), within=within)
    kill_marked(marker)
    watchdog_file = (run / "exp" / ".watchdog.json").exists()

    before = snapshot(journal)
    _check_reported(before, reported(report), case)
    statuses = {t.status for t in before.finished.values()}
    assert statuses <= {Status.OK}, f"{case}: {statuses}\n{stderr}"
    completed = {entry[0] for entry in side_log(side1)}
    assert set(before.finished) <= completed, f"{case}: journalled but never evaluated"

    # resume in this process, on the same backend
    resumed = optimizer(
        run, marker=marker, src_path=src, kernel=kernel, side_log=side2,
        num_iters=NUM_ITERS, slots=SLOTS, backend=anyio_backend,
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HyperdemeWarning)
        result = await hyperdeme.optimize(resumed, SPACE, resume=True)
    if before.torn:  # SIGKILL in the middle of a write: the tail is cut, and said so
        assert any("unfinished record" in str(w.message) for w in caught), case
    else:
        assert caught == [], f"{case}: {[str(w.message) for w in caught]}"
    check_exactly_once(before, snapshot(journal), side_log(side2), result, NUM_ITERS, case)
    assert all(t.ok for t in result.trials), case
    left = await survivors(marker, str(run), within=1.5)
    assert left == [], f"{case}: these survived the resumed run: {left}"
    assert orphans == [], f"{case}: these survived the driver by {within} s: {orphans}\n{stderr}"
    assert not watchdog_file, f"{case}: the watchdog left its record behind"


async def _kill(
    argv: list[str], stderr: Path, sig: signal.Signals, moment: Moment, journal: Path
) -> tuple[int, int]:
    """Start the driver, signal it at ``moment``; its exit code, and how many trials
    its journal held when the signal was sent."""
    started = stderr.with_name("driver-started")
    env = {**os.environ, "FAULT_DRIVER_STARTED": str(started)}
    with stderr.open("wb") as err:
        driver = await anyio.open_process(argv, stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        # "while it starts up" is the driver's start, not the interpreter's: a SIGINT that
        # came 14 ms after the process (inside Python's own import of site) ended it with
        # "Fatal Python error: init_import_site", exit 1, before any driver code ran
        await await_for(
            lambda: started.exists() or driver.returncode is not None,
            within=30,
            what="the driver's interpreter starting",
        )
        if moment.after is not None:
            await await_for(
                lambda: (
                    trial_records(journal) >= (moment.after or 0) or driver.returncode is not None
                ),
                within=30,
                what=f"the driver journalling {moment.after} trials",
            )
        await anyio.sleep(moment.delay)  # the moment itself, not a wait for something
        at_signal = trial_records(journal)
        # positive control: the signal lands on a running driver (else the run "survived"
        # a signal it never got); only a driver done with every trial may be gone already
        assert driver.returncode is None or at_signal == NUM_ITERS, (
            f"the driver ended (exit {driver.returncode}) before the signal, at {at_signal} trials"
        )
        with contextlib.suppress(ProcessLookupError):
            os.kill(driver.pid, sig)
        with anyio.fail_after(30):
            return await driver.wait(), at_signal
    finally:
        if driver.returncode is None:
            driver.kill()
        with anyio.CancelScope(shield=True):
            await driver.aclose()


def _check_reported(before: Snapshot, said: list[dict[str, object]], case: str) -> None:
    """Nothing lost: what the run reported is journalled, as it was reported."""
    journalled = {i: "cancelled" for i in before.cancelled}
    journalled.update({i: t.status.value for i, t in before.finished.items()})
    for entry in said:
        trial_id = entry["id"]
        assert isinstance(trial_id, int)
        assert journalled.get(trial_id) == entry["status"], (
            f"{case}: the run reported trial {trial_id} {entry['status']}, the journal "
            f"has {journalled.get(trial_id)}"
        )
        if entry["status"] == "ok":
            assert str(before.finished[trial_id].fom) == entry["fom"], case
    ids = [entry["id"] for entry in said]
    assert len(ids) == len(set(ids)), f"{case}: reported twice: {ids}"
    # journalled but not reported: only results of the very moment the run was stopped
    unreported = set(before.finished) - set(ids)
    assert len(unreported) <= SLOTS, f"{case}: journalled, never reported: {unreported}"
