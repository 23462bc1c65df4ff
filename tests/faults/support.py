"""What the fault tests share: polling with deadlines, survivors, journals read strictly."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

from hyperdeme import Trial
from processes import marked

KERNELS = Path(__file__).parents[1] / "kernels"
DRIVER = KERNELS / "fault_driver.py"
PYTHON = sys.executable


def require_root(why: str) -> None:
    """Skip without root (fail under CI, which runs as root), as tests/launchers/slurm does."""
    if os.geteuid() == 0:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test as root: {why}")
    pytest.skip(f"needs root: {why}")


def wait_for(condition: Callable[[], object], *, within: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {within} s")
        time.sleep(0.005)


async def await_for(condition: Callable[[], object], *, within: float, what: str) -> None:
    """:func:`wait_for` for async tests (the event loop keeps running meanwhile)."""
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
            except Exception:  # gone meanwhile: not a survivor
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


def survivors_now(*markers: str, within: float) -> list[str]:
    """:func:`survivors` for synchronous tests."""
    deadline = time.monotonic() + within
    while True:
        alive = describe(markers)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


@dataclass
class Snapshot:
    """A journal read strictly: every complete line must be a record of schema 2."""

    records: list[dict[str, Any]]
    #: bytes after the last newline (a record its writer never finished)
    torn: bytes = b""
    started: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: the last ``trial`` record of each id that is not cancelled
    finished: dict[int, Trial] = field(default_factory=dict)
    cancelled: set[int] = field(default_factory=set)

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
            else:
                shot.finished[trial.id] = trial
                shot.cancelled.discard(trial.id)
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
