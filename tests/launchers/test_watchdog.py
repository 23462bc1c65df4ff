"""The driver's side of the watchdog: the process it starts, and reaping a dead run's record.

The program's parts are in ``test_watchdog_program.py``; a real driver SIGKILLed
(alone, with its watchdog, on a full disk) in ``tests/faults``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from hyperdeme.launchers import _watchdog
from hyperdeme.launchers._contain import Containment
from hyperdeme.launchers._watchdog import WATCHDOG_FILE, Watchdog, guarded, reap
from hyperdeme.launchers._watchdog_program import start_time


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A process in a group of its own, reaped as soon as it ends (as init reaps a dead
    driver's children), killed at the end."""
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    threading.Thread(target=process.wait, daemon=True).start()
    yield process
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_a_watchdog_whose_driver_vanished_stops_the_held_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sleeper: subprocess.Popen[bytes]
) -> None:
    """Started from another directory (the program is found by the package, not the cwd);
    the pipe closes without a goodbye, as when the driver is SIGKILLed."""
    monkeypatch.chdir(tmp_path)
    record = tmp_path / WATCHDOG_FILE
    watchdog = Watchdog(record=record, grace=2.0)
    try:
        watchdog.hold_group(sleeper.pid)
        watchdog.flush()
        assert watchdog._process.stdin is not None
        watchdog._process.stdin.close()  # the driver is gone
        assert watchdog._process.wait(timeout=10) == 0
    finally:
        watchdog.close()
    assert sleeper.wait(timeout=1) == -signal.SIGTERM
    assert not record.exists()


def test_a_closed_watchdog_leaves_released_groups_alone(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    watchdog = Watchdog(record=tmp_path / WATCHDOG_FILE, grace=2.0)
    key = watchdog.hold_group(sleeper.pid)
    watchdog.flush()
    watchdog.release(key)
    watchdog.close()
    assert watchdog._process.returncode == 0
    assert sleeper.poll() is None


def write_record(directory: Path, held: object, mark: str = "") -> Path:
    record = directory / WATCHDOG_FILE
    record.write_text(json.dumps({"mark": mark, "held": held}))
    return record


def test_reap_stops_what_a_dead_watchdog_recorded(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    out = tmp_path / "cleaned"
    record = write_record(
        tmp_path,
        [
            {"pgid": sleeper.pid, "start": start_time(sleeper.pid)},
            {"argv": ["/bin/sh", "-c", f"echo done > {out}"], "env": None},
        ],
        mark=uuid.uuid4().hex,
    )
    assert reap(tmp_path) == 2
    assert sleeper.wait(timeout=1) == -signal.SIGTERM
    assert out.read_text() == "done\n"
    assert not record.exists()


def test_reap_spares_a_recorded_group_whose_pid_was_reused(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    write_record(tmp_path, [{"pgid": sleeper.pid, "start": "0"}])
    assert reap(tmp_path) == 1
    assert sleeper.poll() is None


def test_reap_without_a_record_does_nothing(tmp_path: Path) -> None:
    assert reap(tmp_path) == 0


@pytest.mark.parametrize(
    "saved",
    [
        "not json",
        json.dumps({"held": []}),
        json.dumps({"mark": "m", "held": ["a string"]}),
        json.dumps({"mark": "m", "held": [{"pgid": "12"}]}),
        json.dumps({"mark": "m", "held": [{"pgid": 0}]}),
        json.dumps({"mark": "m", "held": [{"pgid": True}]}),
        json.dumps({"mark": "m", "held": [{"argv": "scancel 7"}]}),
        json.dumps({"mark": "m", "held": [{"argv": []}]}),
        json.dumps({"mark": "m", "held": [{"argv": ["qdel"], "env": {"A": 1}}]}),
        json.dumps({"mark": "m", "held": 3}),
    ],
)
def test_reap_ignores_a_record_no_watchdog_wrote(
    tmp_path: Path, saved: str, sleeper: subprocess.Popen[bytes], no_stop: list[object]
) -> None:
    """It is read from disk: nothing of a damaged record is acted upon, and resuming goes on."""
    (tmp_path / WATCHDOG_FILE).write_text(saved.replace("12", str(sleeper.pid)))
    assert reap(tmp_path) == 0
    assert no_stop == []  # the stopping code never ran
    assert sleeper.poll() is None


@pytest.fixture
def no_stop(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The watchdog's stopping code replaced by a recorder, for records that must not be
    acted upon: should a broken check let one through (a mutant of the checks), pgid 0 or
    1 or a system cgroup reaches the recorder, never os.killpg (pgid 1 is init's group:
    SIGKILLing it took down every process on the test machine)."""
    calls: list[object] = []
    monkeypatch.setattr(
        _watchdog._watchdog_program, "stop", lambda *args, **kwargs: calls.append((args, kwargs))
    )
    return calls


# ------------------------------------------------------- mutants killed (scripts/mutants)


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Two processes, each in a group of its own, as ``sleeper``."""
    processes = [subprocess.Popen(["sleep", "60"], start_new_session=True) for _ in range(2)]
    for process in processes:
        threading.Thread(target=process.wait, daemon=True).start()
    yield processes
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _driver_gone(watchdog: Watchdog) -> None:
    """The pipe closes without a goodbye, as when the driver is SIGKILLed (its threads
    gone first: no restart of the watchdog); the watchdog has then stopped what it held."""
    watchdog._closed.set()
    watchdog._flusher.join()
    process = watchdog._process
    assert process.stdin is not None
    process.stdin.close()
    assert process.wait(timeout=20) == 0


def test_each_hold_is_its_own_a_released_one_leaves_the_others_held(
    tmp_path: Path, sleepers: list[subprocess.Popen[bytes]]
) -> None:
    """Promise: what is released is withdrawn, and only that: of two groups and two
    clean-up commands held, the released group and command are spared when the driver
    dies, the others stopped and run."""
    released_group, held_group = sleepers
    ran = tmp_path / "ran"
    watchdog = Watchdog(grace=2.0)
    try:
        keys = [watchdog.hold_group(p.pid) for p in sleepers]
        commands = [
            watchdog.hold_command(["/bin/sh", "-c", f"echo {name} >> {ran}"])
            for name in ("released", "held")
        ]
        watchdog.flush()
        watchdog.release(keys[0])
        watchdog.release(commands[0])
        _driver_gone(watchdog)
    finally:
        watchdog.close()
    assert held_group.wait(timeout=5) == -signal.SIGTERM
    assert released_group.poll() is None
    assert ran.read_text() == "held\n"


def test_a_watchdog_that_died_is_restarted_and_told_what_is_held(
    sleeper: subprocess.Popen[bytes],
) -> None:
    """Promise: the watchdog killed on its own (the OOM killer) while the run says nothing
    is noticed (a thread polls it), restarted, told everything held: the group is still
    stopped when the driver dies afterwards."""
    watchdog = Watchdog(grace=2.0)
    try:
        watchdog.hold_group(sleeper.pid)
        watchdog.flush()
        first = watchdog.pid
        with capture_logs() as logs:
            os.kill(first, signal.SIGKILL)
            deadline = time.monotonic() + 20
            while watchdog.pid == first and time.monotonic() < deadline:
                time.sleep(0.01)
        assert watchdog.pid != first
        assert [(e["event"], e["held"]) for e in logs] == [("watchdog.restarted", 1)]
        assert watchdog.restarts == 1
        _driver_gone(watchdog)
    finally:
        watchdog.close()
    assert sleeper.wait(timeout=5) == -signal.SIGTERM


def test_a_guarded_command_is_held_only_inside_its_block(tmp_path: Path) -> None:
    """Promise: ``guarded(argv)`` holds a clean-up command (``qdel`` of a submitted job)
    while inside only: the driver dying inside runs it, after the block it is withdrawn."""
    ran = tmp_path / "ran"
    watchdog = Watchdog(grace=2.0)
    try:
        with watchdog.active():
            with guarded(["/bin/sh", "-c", f"echo after >> {ran}"]):
                pass
            with guarded(["/bin/sh", "-c", f"echo inside >> {ran}"]):
                _driver_gone(watchdog)
    finally:
        watchdog.close()
    assert ran.read_text() == "inside\n"


@pytest.mark.parametrize(
    "cgroup", ["/sys/fs/cgroup", "/sys/fs/cgroup/hyperdeme-x/../../user.slice", "hyperdeme-x"]
)
def test_reap_ignores_a_record_naming_a_cgroup_hyperdeme_did_not_make(
    tmp_path: Path, cgroup: str, no_stop: list[object]
) -> None:
    """Promise: reap() empties only a run's cgroup (absolute, ``hyperdeme-...``, no ``..``);
    a record naming any other is not a watchdog's, and nothing of it is acted upon."""
    record = write_record(tmp_path, [{"argv": ["true"], "env": None}])
    record.write_text(json.dumps({**json.loads(record.read_text()), "cgroup": cgroup}))
    assert reap(tmp_path) == 0
    assert no_stop == []


def test_reap_acts_on_a_record_naming_a_run_s_cgroup(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    """Promise: a record naming a run's cgroup (``hyperdeme-...``, gone here) is acted upon."""
    entry = {"pgid": sleeper.pid, "start": start_time(sleeper.pid)}
    gone = f"/sys/fs/cgroup/hyperdeme-1-{uuid.uuid4().hex}"
    record = write_record(tmp_path, [entry])
    record.write_text(json.dumps({"mark": "", "held": [entry], "cgroup": gone}))
    assert reap(tmp_path) == 1
    assert sleeper.wait(timeout=5) == -signal.SIGTERM


def test_a_watchdog_that_cannot_stay_up_is_given_up_on_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: past MAX_RESTARTS (here 0) a dead watchdog is given up on: one warning,
    no restart, and the run goes on (later holds are not tried again and again)."""
    monkeypatch.setattr(_watchdog, "MAX_RESTARTS", 0)
    watchdog = Watchdog(grace=1.0)
    try:
        with capture_logs() as logs:
            os.kill(watchdog.pid, signal.SIGKILL)
            watchdog._process.wait(timeout=20)
            for _ in range(3):
                watchdog.release(watchdog.hold_command(["true"]))
            time.sleep(0.3)  # the poller's turns (every 0.1 s) find it dead too
        assert [e["event"] for e in logs] == ["watchdog.gone"]
        assert watchdog.restarts == 0
    finally:
        watchdog.close()


def test_the_watchdog_is_out_of_the_driver_s_process_group() -> None:
    """Promise: a Ctrl-C or any signal to the driver's process group (a shell's job
    control, ``kill -- -PGID``) never reaches the watchdog, which must outlive the
    driver to stop what it started: it leads a session and group of its own."""
    watchdog = Watchdog(grace=1.0)
    try:
        assert os.getpgid(watchdog.pid) == os.getsid(watchdog.pid) == watchdog.pid
        assert os.getpgid(watchdog.pid) != os.getpgid(0)
    finally:
        watchdog.close()


def test_the_watchdog_holds_none_of_the_driver_s_files() -> None:
    """Promise: the watchdog, which outlives its driver, keeps none of the driver's files
    open, not even those the application made inheritable (a socket it listens on, a
    pipe): a dead driver's port or pipe is not held on by its watchdog."""
    read, write = os.pipe()
    os.set_inheritable(read, True)
    os.set_inheritable(write, True)
    watchdog = Watchdog(grace=1.0)
    try:
        mine = {os.readlink(f"/proc/self/fd/{fd}") for fd in (read, write)}
        fds = Path(f"/proc/{watchdog.pid}/fd")
        held = {os.readlink(fds / name) for name in os.listdir(fds)}
        assert held & mine == set()
    finally:
        watchdog.close()
        os.close(read)
        os.close(write)


def test_a_watchdog_that_cannot_start_leaves_no_run_cgroup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: when the watchdog cannot be started (EAGAIN: no process left to fork), the
    error reaches the caller and the run's cgroup, made just before, is removed."""
    probe = Containment(token=uuid.uuid4().hex)
    probe.close(grace=0.0)
    if probe.kind != "cgroup":
        pytest.skip("no writable cgroup v2 here")
    parent = Path(probe.cgroup).parent
    mine = f"hyperdeme-{os.getpid()}-"
    before = {p.name for p in parent.iterdir() if p.name.startswith(mine)}

    def cannot_fork(*args: object, **kwargs: object) -> None:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(_watchdog.subprocess, "Popen", cannot_fork)
    with pytest.raises(BlockingIOError):
        Watchdog(grace=1.0)
    assert {p.name for p in parent.iterdir() if p.name.startswith(mine)} == before


def test_a_watchdog_that_cannot_be_restarted_lets_the_run_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: the watchdog died and a new one cannot start (EMFILE, fork failing): the
    run goes on (holds raise nothing; the run's end sweeps), with one warning, and no
    new start is tried for every later hold."""
    watchdog = Watchdog(grace=1.0)
    starts: list[object] = []

    def cannot_fork(*args: object, **kwargs: object) -> None:
        starts.append(args)
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    try:
        with capture_logs() as logs:
            monkeypatch.setattr(_watchdog.subprocess, "Popen", cannot_fork)
            os.kill(watchdog.pid, signal.SIGKILL)
            watchdog._process.wait(timeout=20)
            for _ in range(3):
                watchdog.release(watchdog.hold_command(["true"]))
        assert [e["event"] for e in logs] == ["watchdog.gone"]
        assert len(starts) == 1
    finally:
        watchdog.close()
