"""A full disk loses nothing: a journal record is all or nothing, and a run that cannot
write its journal stops with JournalError, every earlier record intact, to resume.

Injected:

* a full tmpfs (root), the record shifted across a page boundary: the bytes before
  it are padded so that exactly ``R - k`` of its ``R`` bytes fit in the last page,
  the file system filled to its last page, then the record appended, for every
  ``k`` in ``0..R`` (tmpfs allocates whole pages, so this is every byte offset);
* ``RLIMIT_FSIZE`` in a child process (SIGXFSZ ignored: ``write`` stops at exactly
  the limit, then fails with EFBIG), at every byte offset, without root;
* a whole run whose driver process has an ``RLIMIT_FSIZE`` its journal reaches, and
  a whole run whose tmpfs (journal and trial directories) is filled while it runs.

After a failed append the file ends exactly at the end of the record before and
every earlier record reads back; the journal stays broken (nothing is written after
a hole); once space is back a resumed driver appends the very record, and a resumed
experiment finishes exactly once.
"""

from __future__ import annotations

import errno
import json
import random
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

import hyperdeme
from hyperdeme import Candidate, JournalError, Status, Trial, read_journal
from hyperdeme._engine._journal import Journal
from kernels.fault_driver import SPACE, optimizer

from .support import (
    PAGE,
    PYTHON,
    check_exactly_once,
    driver_argv,
    fill,
    reported,
    side_log,
    snapshot,
    survivors,
)

KINDS = ["trial", "started"]
FIRST = Trial(id=1, params={"--x": 0.5, "--act": "relu"}, fom=0.04, attempts=1, returncode=0)
RECORD = Trial(
    id=3,
    params={"--x": 0.25, "--act": "tanh"},
    fom=0.0025,
    metrics={"FoM": 0.0025},
    attempts=1,
    returncode=0,
    started=1.0,
    ended=2.5,
    duration=1.5,
    command="python3 train.py --x=0.25 --act=tanh",
    candidate=Candidate({"--x": 0.25, "--act": "tanh", "--off": 7}, {"strategy": "random"}),
)


def padding(trial_id: int, length: int) -> Trial:
    """A failed trial whose error is ``length`` characters (one JSON byte each)."""
    return Trial(id=trial_id, params={"--x": 0.75}, status=Status.FAILED, error="x" * length)


def append(journal: Journal, kind: str, trial: Trial = RECORD) -> None:
    """Write ``trial``'s ``kind`` record (a ``started`` one waits for a flush)."""
    getattr(journal, kind)(trial)
    journal.flush()


def line_of(tmp_path: Path, kind: str, trial: Trial = RECORD) -> bytes:
    """The bytes ``kind`` record of ``trial`` takes in a journal."""
    scratch = tmp_path / f"scratch-{kind}-{trial.id}.jsonl"
    scratch.unlink(missing_ok=True)
    with Journal(scratch, fsync="never") as journal:
        append(journal, kind, trial)
    return scratch.read_bytes()


@pytest.mark.parametrize("kind", KINDS)
def test_a_record_on_a_full_disk_is_all_or_nothing_at_every_byte_offset(
    tmp_path: Path, tmpfs: Callable[[Path, int], Path], kind: str
) -> None:
    disk = tmpfs(tmp_path / "disk", 8 * PAGE)
    line = line_of(tmp_path, kind)
    pad_base = len(line_of(tmp_path, "trial", padding(2, 0)))
    size = len(line)
    messages: set[str] = set()
    for k in range(size + 1):  # k: how many of the record's bytes find no room
        for leftover in disk.iterdir():
            leftover.unlink()
        path = disk / "trials.jsonl"
        with Journal(path) as journal:
            journal.trial(FIRST)
            end = 2 * PAGE - (size - k)  # the last page has size - k bytes free
            journal.trial(padding(2, end - path.stat().st_size - pad_base))
            assert path.stat().st_size == end
            fill(disk)
            before = path.read_bytes()
            if k == 0:
                append(journal, kind)
                assert path.read_bytes() == before + line
                continue
            with pytest.raises(JournalError) as caught:
                append(journal, kind)
            error = caught.value
            case = f"{kind} record of {size} bytes, {k} without room"
            assert path.read_bytes() == before, case  # ends where the record before ended
            assert error.errno == errno.ENOSPC, case
            assert error.filename == str(path), case
            messages.add(str(error).replace(str(path), "<journal>"))
            assert [t.id for t in read_journal(path)] == [1, 2], case
            (disk / "filler").unlink()  # space is back, but this journal stays broken:
            with pytest.raises(JournalError):  # nothing may follow the hole
                append(journal, kind)
            assert path.read_bytes() == before, case
        with Journal(path) as resumed:  # a resumed driver appends the very record
            append(resumed, kind)
        assert path.read_bytes() == before + line, case
        assert [t.id for t in read_journal(path)] == [1, 2, 3][: 3 if kind == "trial" else 2]
    # what the user reads: a sentence naming the journal, the cause and the remedy
    [message] = messages
    assert message.startswith("cannot write the journal <journal>: No space left on device")
    assert message.endswith("every earlier record intact: free some space, then resume.")


FSIZE_CHILD = textwrap.dedent(
    """
    import json, os, resource, signal, sys
    from pathlib import Path
    from hyperdeme import Candidate, JournalError, Trial
    from hyperdeme._engine._journal import Journal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    base, kind = Path(sys.argv[1]), sys.argv[2]
    first, record = (Trial.from_json(json.loads(a)) for a in sys.argv[3:5])
    record.candidate = Candidate(*json.loads(sys.argv[5]))
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    for k in range(int(sys.argv[6]) + 1):
        path = base / str(k) / "trials.jsonl"
        journal = Journal(path)
        journal.trial(first)
        size = path.stat().st_size
        (base / str(k) / "before").write_bytes(path.read_bytes())
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + k, hard))
        try:
            getattr(journal, kind)(record)
            journal.flush()
            outcome = None
        except JournalError as error:
            outcome = [error.errno, str(error)]
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
        try:
            getattr(journal, kind)(record)
            journal.flush()
            again = None
        except JournalError as error:
            again = error.errno
        journal.close()
        print(json.dumps({"k": k, "outcome": outcome, "again": again}), flush=True)
    """
)


@pytest.mark.parametrize("kind", KINDS)
def test_a_record_at_a_file_size_limit_is_all_or_nothing_at_every_byte_offset(
    tmp_path: Path, kind: str
) -> None:
    """The root-free variant: EFBIG at exactly ``limit`` bytes, for a limit at every byte
    of the record. The child process (alone under the limit) reports; this test reads."""
    line = line_of(tmp_path, kind)
    candidate = json.dumps([RECORD.candidate.params, RECORD.candidate.info])  # type: ignore[union-attr]
    child = subprocess.run(
        [
            PYTHON, "-c", FSIZE_CHILD, str(tmp_path / "k"), kind, json.dumps(FIRST.to_json()),
            json.dumps(RECORD.to_json()), candidate, str(len(line)),
        ],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    outcomes = [json.loads(out) for out in child.stdout.splitlines()]
    assert [o["k"] for o in outcomes] == list(range(len(line) + 1))
    for outcome in outcomes:
        k = outcome["k"]
        before = (tmp_path / "k" / str(k) / "before").read_bytes()
        after = (tmp_path / "k" / str(k) / "trials.jsonl").read_bytes()
        case = f"{kind} record of {len(line)} bytes, limit {k} bytes past the record before"
        if k == len(line):
            assert outcome["outcome"] is None, case
            assert after == before + line + line, case  # and the next one, unlimited
            continue
        error_number, message = outcome["outcome"]
        assert after == before, f"{case}: {after[len(before) :]!r} left behind"
        assert error_number == errno.EFBIG, case
        assert outcome["again"] == errno.EFBIG, f"{case}: the journal went on after a hole"
        assert [t.id for t in read_journal(tmp_path / "k" / str(k))] == [1], case
        assert message.startswith("cannot write the journal "), f"{case}: {message!r}"
        assert "File too large (EFBIG)" in message, f"{case}: {message!r}"


NUM_ITERS = 30


@pytest.mark.parametrize("repeat", range(3))
async def test_a_run_reaching_a_file_size_limit_stops_with_journal_error_and_resumes(
    tmp_path: Path, src: Path, marker: str, anyio_backend: str, repeat: int
) -> None:
    """A driver process whose RLIMIT_FSIZE its journal reaches mid-run (at a seeded
    random size): it exits with JournalError (EFBIG), a plain exception; the journal
    holds exactly the trials it reported; no kernel survives; the resumed experiment
    (no limit, in this process) finishes exactly once."""
    backend = anyio_backend  # the driver's, and the resumed run's
    seed = f"fsize/{backend}/{repeat}"
    limit = random.Random(seed).randrange(2_000, 12_000)
    case = f"seed {seed!r}: RLIMIT_FSIZE {limit} bytes"
    run, side1, side2 = tmp_path / "run", tmp_path / "side1", tmp_path / "side2"
    with anyio.fail_after(60):
        driver = await anyio.run_process(
            driver_argv(
                run, marker, src, backend, side_log=side1, report=tmp_path / "report",
                num_iters=NUM_ITERS, fsize=limit,
            ),
            check=False,
        )  # fmt: skip
    stderr = driver.stderr.decode()
    assert driver.returncode == 1, f"{case}\n{stderr[-3000:]}"
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("hyperdeme.JournalError: "), f"{case}\n{stderr[-3000:]}"
    assert "ExceptionGroup" not in stderr, case
    journal = run / "exp" / "trials.jsonl"
    assert journal.stat().st_size <= limit, case
    before = snapshot(journal)
    assert before.torn == b"", case
    told = [(r["id"], r["status"]) for r in reported(tmp_path / "report")]
    journalled = [(t.id, t.status.value) for t in before.finished.values()]
    assert told == journalled, f"{case}: reported {told}, journalled {journalled}"
    assert await survivors(marker, str(run), within=1.5) == [], case

    resumed = optimizer(run, marker=marker, src_path=src, side_log=side2, num_iters=NUM_ITERS)
    result = await hyperdeme.optimize(resumed, SPACE, resume=True)
    check_exactly_once(before, snapshot(journal), side_log(side2), result, NUM_ITERS, case)
    assert all(t.ok for t in result.trials), case
    # what the user reads: a sentence naming the journal and the cause
    assert last.startswith("hyperdeme.JournalError: cannot write the journal"), last
    assert "File too large (EFBIG)" in last, last


@pytest.mark.parametrize("repeat", range(2))
async def test_a_run_on_a_disk_that_fills_up_stops_with_journal_error_and_resumes(
    tmp_path: Path,
    src: Path,
    marker: str,
    tmpfs: Callable[[Path, int], Path],
    anyio_backend: str,
    repeat: int,
) -> None:
    """The run directory (journal, trial directories and logs) on a 1 MiB tmpfs,
    filled after a seeded random number of trials while kernels run. Evaluations that
    cannot write their files are retried, then journalled ``interrupted`` (the disk's
    failure, not their parameters') while the journal can still take them; then the
    run stops with JournalError (ENOSPC), having journalled exactly what it reported,
    and no kernel survives. With space freed the resumed experiment finishes exactly
    once, running the interrupted trials again."""
    seed = f"tmpfs-run/{anyio_backend}/{repeat}"
    rng = random.Random(seed)
    fill_after = rng.randint(1, 15)
    case = f"seed {seed!r}: the disk filled after {fill_after} trials"
    disk = tmpfs(tmp_path / "disk", 1 << 20)
    run, side1, side2 = disk / "run", tmp_path / "side1", tmp_path / "side2"
    opt = optimizer(run, marker=marker, src_path=src, side_log=side1, num_iters=NUM_ITERS)
    told: list[Trial] = []

    async def watch() -> None:
        async with hyperdeme.stream(opt, SPACE) as trials:
            async for trial in trials:
                told.append(trial)
                if len(told) == fill_after:
                    fill(disk)

    with pytest.raises(JournalError) as caught:
        await watch()
    assert caught.value.errno == errno.ENOSPC, case
    orphans = await survivors(marker, str(run), within=1.5)
    journal = run / "exp" / "trials.jsonl"
    before = snapshot(journal)
    assert before.torn == b"", case
    journalled = {t.id: t.status for t in before.finished.values()}
    journalled |= {trial_id: Status.INTERRUPTED for trial_id in before.interrupted}
    # running when the run stopped: cancelled, run again on resume; reported as such if at all
    told_ids = {t.id for t in told}
    journalled |= {i: Status.CANCELLED for i in before.cancelled - set(journalled) if i in told_ids}
    assert {t.id: t.status for t in told} == journalled, case
    for trial in before.finished.values():  # the disk's failure is not the trials'
        assert trial.ok, f"{case}: {trial.error}"
    for trial in told:
        if trial.status is Status.INTERRUPTED:
            assert "No space left on device (ENOSPC: the disk is full)" in trial.error, case

    (disk / "filler").unlink()
    resumed = optimizer(run, marker=marker, src_path=src, side_log=side2, num_iters=NUM_ITERS)
    result = await hyperdeme.optimize(resumed, SPACE, resume=True)
    check_exactly_once(before, snapshot(journal), side_log(side2), result, NUM_ITERS, case)
    assert await survivors(marker, within=1.0) == [], case
    assert orphans == [], f"{case}: survived the stopped run: {orphans}"
    assert "No space left on device" in str(caught.value), str(caught.value)


async def test_a_log_past_ulimit_f_interrupts_its_trial_saying_so_and_resumes(
    tmp_path: Path, src: Path, marker: str, anyio_backend: str
) -> None:
    """``ulimit -f`` (RLIMIT_FSIZE 100 kB) and programs printing 300 kB: the program ran,
    its log could not be written. Each trial says exactly that (not "could not start"),
    is retried, then ``interrupted``; three in a row stop the run with an
    EvaluationError saying the machine cannot run trials; without the limit the
    resumed experiment runs them again and finishes exactly once."""
    case = f"RLIMIT_FSIZE 100 kB, 300 kB of output, {anyio_backend}"
    run, side1, side2 = tmp_path / "run", tmp_path / "side1", tmp_path / "side2"
    num_iters = 4
    with anyio.fail_after(120):
        driver = await anyio.run_process(
            driver_argv(
                run, marker, src, anyio_backend, side_log=side1, report=tmp_path / "report",
                num_iters=num_iters, slots=2, fsize=100_000, kernel="--shout=300000",
                retry_delay=0,  # the machine's own back-off: 0.2 s, doubled, 5 times
            ),
            check=False,
        )  # fmt: skip
    stderr = driver.stderr.decode()
    assert driver.returncode == 1, f"{case}\n{stderr[-3000:]}"
    [last] = [line for line in stderr.splitlines() if line.startswith("hyperdeme.")]
    assert last.startswith("hyperdeme.EvaluationError: the machine cannot run trials"), last
    assert "File too large (EFBIG: the file size limit, ulimit -f)" in last, last
    assert await survivors(marker, str(run), within=1.5) == [], case
    journal = run / "exp" / "trials.jsonl"
    before = snapshot(journal)
    assert len(before.interrupted) >= 3, case
    assert before.finished == {}, case  # none blamed on its parameters
    for record in before.of_type("trial"):
        assert "could not start" not in record["error"], case
        assert record["error"].startswith("the program ran, but its log "), case
        assert "File too large (EFBIG: the file size limit, ulimit -f)" in record["error"], case
    resumed = optimizer(
        run, marker=marker, src_path=src, side_log=side2, num_iters=num_iters,
        kernel="--shout=300000",
    )  # fmt: skip
    result = await hyperdeme.optimize(resumed, SPACE, resume=True)
    check_exactly_once(before, snapshot(journal), side_log(side2), result, num_iters, case)
    assert all(t.ok for t in result.trials), case
