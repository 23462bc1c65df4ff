"""Too many open files: the machine's failure, not the trials'. An evaluation that
cannot start for want of descriptors is retried with back-off, and if the shortage
lasts journalled ``interrupted``; the run ends with one plain exception at most, and
it resumes exactly once, running the interrupted trials again.

Injected: ``RLIMIT_NOFILE`` of a driver process (``kernels/fault_driver.py``, asyncio
and trio) set, just before it runs, to the descriptors it has open plus 4, 12, 20 or
48: from "cannot even open the journal" through "some evaluations cannot start"
(EMFILE creating pipes or log files) to "enough". Whatever the outcome, the journal
holds what the run reported, every failed trial says why, no process survives, and
the experiment resumed without the limit finishes exactly once. Up to 20 the fault is
shown to have happened (trials failed with EMFILE, or the run ended on it).
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import hyperdeme
from hyperdeme import Status
from kernels.fault_driver import SPACE, optimizer

from .support import (
    check_exactly_once,
    driver_argv,
    reported,
    side_log,
    snapshot,
    survivors,
)

NUM_ITERS, SLOTS = 30, 4
#: what ends a run that hits the limit: fail-fast, or the journal's own open
PLAIN_ENDINGS = ("hyperdeme.EvaluationError: ", "OSError: [Errno 24] Too many open files")


@pytest.mark.parametrize("extra", [4, 12, 20, 48])
async def test_a_run_out_of_file_descriptors_records_every_trial_and_resumes(
    tmp_path: Path, src: Path, marker: str, anyio_backend: str, extra: int
) -> None:
    case = f"RLIMIT_NOFILE = open descriptors + {extra}, {anyio_backend}"
    run, side1, side2 = tmp_path / "run", tmp_path / "side1", tmp_path / "side2"
    with anyio.fail_after(60):
        driver = await anyio.run_process(
            driver_argv(
                run, marker, src, anyio_backend, side_log=side1, report=tmp_path / "report",
                num_iters=NUM_ITERS, slots=SLOTS, nofile=extra,
            ),
            check=False,
        )  # fmt: skip
    stderr = driver.stderr.decode()
    assert driver.returncode in (0, 1), f"{case}\n{stderr[-3000:]}"
    assert await survivors(marker, str(run), within=1.5) == [], case

    journal = run / "exp" / "trials.jsonl"
    before = snapshot(journal)
    assert before.torn == b"", case
    ended = set(before.finished) | before.cancelled | before.interrupted
    assert set(before.started) == ended, f"{case}: started, never ended: {before.started}"
    told = {entry["id"]: entry["status"] for entry in reported(tmp_path / "report")}
    for trial_id, status in told.items():
        if trial_id in before.interrupted:  # the machine's failure, not the trial's
            assert status == "interrupted", case
        elif trial_id in before.cancelled:  # running when the run stopped on the machine
            assert status == "cancelled", case
        else:
            assert before.finished[trial_id].status.value == status, case
    untold = set(before.finished) - set(told)
    assert len(untold) <= SLOTS, f"{case}: journalled, never reported: {untold}"
    for trial in before.finished.values():
        assert trial.status is Status.OK or "Too many open files" in trial.error, (
            f"{case}: trial {trial.id} {trial.status.value}: {trial.error[-500:]}"
        )

    # positive control: at a small limit the fault happened (else a --nofile that does
    # nothing would pass): trials were retried or interrupted, or the run ended on it
    failed = [t.id for t in before.finished.values() if "Too many open files" in t.error]
    retried = [t.id for t in before.finished.values() if t.attempts > 1]
    hit = bool(failed or retried or before.interrupted) or "Too many open files" in stderr
    if extra <= 20:  # measured: 4 fails opening the journal, 12 and 20 fail trials
        assert hit, f"{case}: no EMFILE happened (trials failed: {failed})\n{stderr[-3000:]}"
    resumed = optimizer(run, marker=marker, src_path=src, side_log=side2, num_iters=NUM_ITERS)
    result = await hyperdeme.optimize(resumed, SPACE, resume=True)
    check_exactly_once(before, snapshot(journal), side_log(side2), result, NUM_ITERS, case)
    assert await survivors(marker, str(run), within=1.5) == [], case
    if driver.returncode:  # one plain exception, never a group of them
        assert "ExceptionGroup" not in stderr, f"{case}\n{stderr[-3000:]}"
        endings = [line for line in stderr.splitlines() if line.startswith(PLAIN_ENDINGS)]
        assert endings, f"{case}\n{stderr[-3000:]}"


SLOTS_MANY, TRIALS_MANY, ULIMIT_N = 1000, 300, 256


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_a_thousand_slots_under_ulimit_n_256_fail_no_trial_and_resume_the_rest(
    tmp_path: Path, src: Path, marker: str, anyio_backend: str
) -> None:
    """10^3 slots, 300 trials, ``ulimit -n 256``: every trial starts at once and most
    cannot get their pipes and log files. Not one ends ``failed`` (their parameters are
    fine): each is ok after retries, or ``interrupted``; the journal is what the run
    reported; resume runs the interrupted ones and finishes exactly once."""
    case = f"{SLOTS_MANY} slots, ulimit -n {ULIMIT_N}, {anyio_backend}"
    run, side1, side2 = tmp_path / "run", tmp_path / "side1", tmp_path / "side2"
    with anyio.fail_after(240):
        driver = await anyio.run_process(
            driver_argv(
                run, marker, src, anyio_backend, side_log=side1, report=tmp_path / "report",
                num_iters=TRIALS_MANY, slots=SLOTS_MANY, nofile_max=ULIMIT_N,
                kernel="--sleep=1",  # all at once: 300 programs want 4 descriptors each
            ),
            check=False,
        )  # fmt: skip
    stderr = driver.stderr.decode()
    assert driver.returncode in (0, 1), f"{case}\n{stderr[-3000:]}"
    assert await survivors(marker, str(run), within=3.0) == [], case
    journal = run / "exp" / "trials.jsonl"
    before = snapshot(journal)
    assert before.torn == b"", case
    failed = {i: t.error[-200:] for i, t in before.finished.items() if t.status is not Status.OK}
    assert failed == {}, f"{case}: trials blamed for the machine's failure"
    told = {entry["id"]: entry["status"] for entry in reported(tmp_path / "report")}
    journalled = {i: t.status.value for i, t in before.finished.items()}
    journalled |= {i: "interrupted" for i in before.interrupted}
    journalled |= {i: "cancelled" for i in before.cancelled - set(journalled)}
    untold = {i: s for i, s in journalled.items() if i not in told}
    assert {i: journalled[i] for i in told} == told, case  # reported as journalled
    assert set(untold.values()) <= {"cancelled", "interrupted", "ok"}, case
    if driver.returncode:  # the machine could not run trials: said so, plainly
        endings = [line for line in stderr.splitlines() if line.startswith(PLAIN_ENDINGS)]
        assert endings, f"{case}: no plain ending\n{stderr[-3000:]}"
        if endings[-1].startswith("hyperdeme."):
            last = endings[-1]
            assert last.startswith("hyperdeme.EvaluationError: the machine cannot run"), last
            assert "Too many open files (EMFILE" in last, last
    # positive control: the limit bit (retries, interruptions, or the run's end)
    retried = [i for i, t in before.finished.items() if t.attempts > 1]
    assert retried or before.interrupted or driver.returncode, f"{case}: no EMFILE happened"
    resumed = optimizer(
        run, marker=marker, src_path=src, side_log=side2, num_iters=TRIALS_MANY, slots=16
    )
    result = await hyperdeme.optimize(resumed, SPACE, resume=True)
    after = snapshot(journal)
    check_exactly_once(before, after, side_log(side2), result, TRIALS_MANY, case)
    assert before.interrupted <= {i for i, _, _ in side_log(side2)}, case  # run again
    assert all(t.ok for t in result.trials), case
    assert await survivors(marker, str(run), within=3.0) == [], case
