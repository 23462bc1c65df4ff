"""What the fault tests share: polling with deadlines, survivors, journals read strictly."""

from __future__ import annotations

import errno
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest

from hyperdeme import Result, Trial, read_journal
from processes import marked

KERNELS = Path(__file__).parents[1] / "kernels"
DRIVER = KERNELS / "fault_driver.py"
PYTHON = sys.executable
PAGE = os.sysconf("SC_PAGE_SIZE")


def driver_argv(
    run: Path, marker: str, src: Path, backend: str, *flags: str, **options: object
) -> list[str]:
    """The command line of the fault driver (``kernels/fault_driver.py``) on experiment
    ``run``: each option as ``--name=value`` (``_`` in the name becomes ``-``), then
    the value-less ``flags`` (``--stream``, ``--resume``, ``--go``)."""
    named = [f"--{name.replace('_', '-')}={value}" for name, value in options.items()]
    return [
        PYTHON, str(DRIVER), str(run), f"--marker={marker}", f"--src-path={src}",
        f"--backend={backend}", *named, *flags,
    ]  # fmt: skip


def require_root(why: str) -> None:
    """Skip without root (fail under CI, which runs as root), as tests/launchers/slurm does."""
    if os.geteuid() == 0:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test as root: {why}")
    pytest.skip(f"needs root: {why}")


def fill(directory: Path) -> None:
    """Fill the file system of ``directory`` to its last byte."""
    with (directory / "filler").open("ab", buffering=0) as filler:
        for size in (1 << 16, 1 << 12, 1 << 6, 1):
            block = b"\0" * size
            while True:
                try:
                    filler.write(block)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    break
    assert os.statvfs(directory).f_bavail == 0


async def await_for(condition: Callable[[], object], *, within: float, what: str) -> None:
    """Poll ``condition`` until it holds (the event loop runs meanwhile); fail naming
    ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {within} s")
        await anyio.sleep(0.005)


def describe(markers: tuple[str, ...]) -> list[str]:
    """Live processes whose argv mentions any of ``markers``: "pid: argv" each."""
    found: dict[int, str] = {}
    for marker in markers:
        for process in marked(marker):
            try:
                found[process.pid] = " ".join(process.cmdline())[:200]
            except psutil.Error:  # gone meanwhile: not a survivor
                continue
    return [f"{pid}: {argv}" for pid, argv in sorted(found.items())]


async def survivors(*markers: str, within: float) -> list[str]:
    """Processes carrying any of ``markers`` still alive ``within`` seconds from now
    (returns as soon as there are none)."""
    deadline = time.monotonic() + within
    while True:
        alive = describe(markers)
        if not alive or time.monotonic() > deadline:
            return alive
        await anyio.sleep(0.02)


@dataclass
class Snapshot:
    """A journal read strictly: every complete line must be a record of schema 2."""

    records: list[dict[str, Any]]
    #: bytes after the last newline (a record its writer never finished)
    torn: bytes = b""
    started: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: the last ``trial`` record of each id that is not cancelled nor interrupted
    finished: dict[int, Trial] = field(default_factory=dict)
    cancelled: set[int] = field(default_factory=set)
    #: ended ``interrupted`` (the machine could not run them): resume runs them again
    interrupted: set[int] = field(default_factory=set)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["type"] == kind]


def snapshot(path: Path) -> Snapshot:
    data = path.read_bytes() if path.exists() else b""
    body, _, torn = data.rpartition(b"\n")
    records = []
    for number, line in enumerate(body.split(b"\n") if body else [], 1):
        record = json.loads(line)  # a complete line that is not JSON fails the test here
        assert isinstance(record, dict), f"{path} line {number} is not a record: {line!r}"
        assert record.get("schema") == 2, f"{path} line {number}: {line!r}"
        records.append(record)
    shot = Snapshot(records, torn)
    for record in records:
        kind = record["type"]
        if kind == "started":
            assert record["id"] not in shot.started, f"{path}: trial {record['id']} started twice"
            shot.started[record["id"]] = record["genes"]
        elif kind == "trial":
            trial = Trial.from_json(record)
            if trial.status == "cancelled":
                shot.cancelled.add(trial.id)
            elif trial.status == "interrupted":
                shot.interrupted.add(trial.id)
            else:
                shot.finished[trial.id] = trial
                shot.cancelled.discard(trial.id)
                shot.interrupted.discard(trial.id)
    return shot


def trial_records(path: Path) -> int:
    """How many ``trial`` records the journal at ``path`` holds (cheap: for polling)."""
    try:
        return path.read_bytes().count(b'"type":"trial"')
    except FileNotFoundError:
        return 0


def side_log(path: Path) -> list[tuple[int, float, int]]:
    """The evaluations faulty.sh completed: (trial id, x, n) in the order they completed."""
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        directory, x, n = line.split()
        entries.append((int(directory), float(x), int(n)))
    return entries


def reported(path: Path) -> list[dict[str, Any]]:
    """What a fault_driver.py run reported (``--report``)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def check_exactly_once(
    before: Snapshot,
    after: Snapshot,
    evaluated: list[tuple[int, float, int]],
    result: Result,
    num_iters: int,
    case: str,
) -> None:
    """The promises of a resumed experiment, from its journal before and after resuming
    and the evaluations the resumed run completed (faulty.sh's side log)."""
    everything = list(range(1, num_iters + 1))
    final = Counter(
        r["id"] for r in after.of_type("trial") if r["status"] not in ("cancelled", "interrupted")
    )
    assert sorted(final) == everything, f"{case}: finished trials in the journal: {final}"
    assert set(final.values()) == {1}, f"{case}: trials finished more than once: {final}"
    journal = read_journal(result.journal_path or "")
    assert sorted(t.id for t in journal) == everything, case
    assert sorted((t.id, t.status, t.fom) for t in result.trials) == sorted(
        (t.id, t.status, t.fom) for t in journal
    ), f"{case}: the result is not the journal"
    for trial_id, trial in before.finished.items():  # kept as they were
        assert (after.finished[trial_id].status, after.finished[trial_id].fom) == (
            trial.status,
            trial.fom,
        ), case

    again = [trial_id for trial_id, _, _ in evaluated]
    assert len(again) == len(set(again)), f"{case}: evaluated twice after resuming: {again}"
    twice = sorted(set(again) & set(before.finished))
    assert twice == [], f"{case}: finished before the kill, evaluated again: {twice}"
    rest = set(everything) - set(before.finished)
    succeeded = {i for i in rest if after.finished[i].ok}
    assert succeeded <= set(again) <= rest, (
        f"{case}: evaluated after resuming {sorted(again)}, finished before "
        f"{sorted(before.finished)}"
    )
    for trial_id, x, n in evaluated:  # each with the parameters journalled for its id
        assert after.started[trial_id] == {"--x": x, "--n": n}, case

    ended = set(before.finished) | before.cancelled | before.interrupted
    interrupted = sorted(set(before.started) - ended)
    recorded = [r["id"] for r in after.of_type("interrupted")]
    assert recorded == interrupted, f"{case}: interrupted records {recorded}, not {interrupted}"
    resumes = after.of_type("resumed")
    if before.records:
        assert len(resumes) == 1, case
        assert resumes[0]["finished"] == len(before.finished), case
        assert resumes[0]["interrupted"] == interrupted, case
        assert resumes[0]["pid"] == os.getpid(), case
    else:  # killed before its journal had a record: the resumed run started afresh
        assert resumes == [], case
    assert len(after.of_type("experiment")) == 1, case
