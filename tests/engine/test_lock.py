"""The experiment lock (_engine/_lock.py): one driver per experiment, and who holds it.

Written for scripts/mutants: each test kills mutants of the lock that the driver's
tests (tests/driver/test_resume.py) let live; see tests/mutants/results.md.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from hyperdeme import JournalError
from hyperdeme._engine import _lock
from hyperdeme._engine._lock import ExperimentLock, driver_of


def _holder(directory: Path) -> dict[str, object]:
    return dict(json.loads((directory / ".driver").read_text()))


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    return int(done.stdout)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_lock_refuses_a_second_holder_by_name_until_the_first_closes(tmp_path: Path) -> None:
    first = ExperimentLock(tmp_path)
    with pytest.raises(JournalError) as refused:
        ExperimentLock(tmp_path)
    message = str(refused.value)
    assert f"pid {os.getpid()} on host {socket.gethostname()} since " in message
    assert str(tmp_path) in message
    first.close()
    with ExperimentLock(tmp_path):  # free again
        pass


def test_lock_holder_file_names_this_process_and_goes_at_close(tmp_path: Path) -> None:
    with ExperimentLock(tmp_path) as lock:
        assert lock.path == tmp_path / ".lock"
        holder = _holder(tmp_path)
        assert holder["host"] == socket.gethostname()
        assert holder["pid"] == os.getpid()
        since = datetime.datetime.fromisoformat(str(holder["since"]))
        assert abs(datetime.datetime.now() - since) < datetime.timedelta(hours=1)
        assert sorted(p.name for p in tmp_path.iterdir()) == [".driver", ".lock"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]


def test_lock_file_is_made_rw_r_r(tmp_path: Path, umask_022: None) -> None:
    with ExperimentLock(tmp_path) as lock:
        assert lock.path.stat().st_mode & 0o777 == 0o644


def test_lock_closed_twice_leaves_the_next_holder_alone(tmp_path: Path) -> None:
    first = ExperimentLock(tmp_path)
    first.close()
    with ExperimentLock(tmp_path):
        first.close()  # must neither remove the next holder's .driver nor release its lock
        assert _holder(tmp_path)["pid"] == os.getpid()
        with pytest.raises(JournalError):
            ExperimentLock(tmp_path)


def test_lock_driver_of_is_none_without_a_holder(tmp_path: Path) -> None:
    assert driver_of(tmp_path) is None
    (tmp_path / ".driver").write_text("[1, 2]\n")  # not a holder
    assert driver_of(tmp_path) is None
    (tmp_path / ".driver").write_text('{"host": "h", "pid"')  # half written
    assert driver_of(tmp_path) is None


def test_lock_driver_of_names_the_live_holder(tmp_path: Path) -> None:
    with ExperimentLock(tmp_path):
        assert driver_of(tmp_path) == _holder(tmp_path)
        assert driver_of(tmp_path)["pid"] == os.getpid()  # type: ignore[index]


def test_lock_driver_of_drops_a_dead_holder_on_this_host_only(tmp_path: Path) -> None:
    dead = {"host": socket.gethostname(), "pid": _dead_pid(), "since": "then"}
    (tmp_path / ".driver").write_text(json.dumps(dead))
    assert driver_of(tmp_path) is None
    elsewhere = dict(dead, host="another-host.invalid")
    (tmp_path / ".driver").write_text(json.dumps(elsewhere))
    assert driver_of(tmp_path) == elsewhere  # taken at its word


@pytest.mark.parametrize("holder", [{"pid": "not a pid"}, {"since": "then"}, {"pid": None}])
def test_lock_driver_of_keeps_a_holder_it_cannot_check(
    tmp_path: Path, holder: dict[str, object]
) -> None:
    holder = {"host": socket.gethostname(), **holder}
    (tmp_path / ".driver").write_text(json.dumps(holder))
    assert driver_of(tmp_path) == holder


def _hold_without_holder_file(directory: Path) -> int:
    """The lock taken as a driver does in the moment before it writes ``.driver``."""
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_lock_refusal_waits_a_moment_for_a_new_holder_to_write_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = {"host": "other", "pid": 4242, "since": "2026-01-01T00:00:00"}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # the holder writes its name during the first wait
        sleeps.append(seconds)
        (tmp_path / ".driver").write_text(json.dumps(holder))

    monkeypatch.setattr(_lock, "time", SimpleNamespace(sleep=sleep))
    fd = _hold_without_holder_file(tmp_path)
    try:
        with pytest.raises(
            JournalError, match=r"\(pid 4242 on host other since 2026-01-01T00:00:00\)"
        ):
            ExperimentLock(tmp_path)
    finally:
        os.close(fd)
    assert len(sleeps) == 1


def test_lock_refusal_gives_up_on_a_holder_that_never_writes_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(_lock, "time", SimpleNamespace(sleep=sleeps.append))
    fd = _hold_without_holder_file(tmp_path)
    try:
        with pytest.raises(JournalError, match="could not be told: it may have just ended"):
            ExperimentLock(tmp_path)
    finally:
        os.close(fd)
    assert 0.5 <= sum(sleeps) <= 5  # "a moment": about a second, in short steps
    assert max(sleeps) <= 0.1


def test_lock_refusal_with_an_incomplete_holder_says_it_cannot_tell(tmp_path: Path) -> None:
    fd = _hold_without_holder_file(tmp_path)
    (tmp_path / ".driver").write_text(json.dumps({"pid": 1}))
    try:
        with pytest.raises(JournalError, match=r"another driver \(which could not be told\)"):
            ExperimentLock(tmp_path)
    finally:
        os.close(fd)


def test_lock_closes_after_its_holder_file_was_removed_by_hand(tmp_path: Path) -> None:
    lock = ExperimentLock(tmp_path)
    (tmp_path / ".driver").unlink()
    lock.close()  # no error: the lock is released all the same
    with ExperimentLock(tmp_path):
        pass


def test_lock_driver_of_never_waits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``hyperdeme status`` asks at once: no holder is no holder, without the wait a
    refused driver gives a new holder."""
    sleeps: list[float] = []
    monkeypatch.setattr(_lock, "time", SimpleNamespace(sleep=sleeps.append))
    assert driver_of(tmp_path) is None
    assert sleeps == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS])
def test_lock_a_disk_that_cannot_take_the_holder_is_a_journal_error_naming_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """A full (or read-only) disk at start is said as a JournalError naming the run
    directory, the file and the errno's name; the lock is let go (a later run can start)."""

    def full(path: Path, data: bytes) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(_lock, "write_new", full)
    with pytest.raises(JournalError) as caught:
        ExperimentLock(tmp_path)
    said = str(caught.value)
    assert f"cannot start the run in {tmp_path}: writing {tmp_path}/.driver.{os.getpid()}" in said
    assert f"({errno.errorcode[code]})" in said
    monkeypatch.undo()
    with ExperimentLock(tmp_path):
        pass


@pytest.mark.parametrize(
    "error", [OSError(errno.EMFILE, "Too many open files"), KeyboardInterrupt()]
)
def test_lock_another_failure_at_start_is_raised_as_it_is_and_lets_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    """What is not the disk's (EMFILE: the machine's; an interrupt) reaches the caller
    itself, not dressed as a journal error, and the lock is let go all the same."""

    def fails(path: Path, data: bytes) -> None:
        raise error

    monkeypatch.setattr(_lock, "write_new", fails)
    with pytest.raises(type(error)) as caught:
        ExperimentLock(tmp_path)
    assert caught.value is error
    monkeypatch.undo()
    with ExperimentLock(tmp_path):
        pass


def test_lock_driver_of_only_asks_whether_a_live_holder_lives(tmp_path: Path) -> None:
    """Looking who runs an experiment sends its driver no signal (signal 0: only the
    question whether it lives): the holder, another process, goes on and ends as it will."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDS, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    found = driver_of(tmp_path)
    holder.communicate("")
    assert found is not None
    assert found["pid"] == holder.pid
    assert holder.returncode == 0  # not ended by a signal


_HOLDS = (
    "import signal, sys; from pathlib import Path\n"
    "from hyperdeme._engine._lock import ExperimentLock\n"
    "for number in range(1, signal.NSIG):  # every signal's default (not what it inherited)\n"
    "    try: signal.signal(number, signal.SIG_DFL)\n"
    "    except (OSError, ValueError): pass\n"
    "lock = ExperimentLock(Path(sys.argv[1])); print('held', flush=True); sys.stdin.read()"
)
