"""The watchdog program's parts, imported and run in this process.

The program runs as its own bare interpreter (``python -I -S <file>``); these tests
call its functions directly. Its whole life with a real driver (SIGKILLed, with a
full disk, killed together with its watchdog) is in ``tests/faults``.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme.launchers import _watchdog_program as program
from hyperdeme.launchers._contain import Containment
from hyperdeme.launchers._watchdog import PROGRAM, program_argv

Start = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def start() -> Iterator[Start]:
    """Start a process in its own session (a group of its own), killed at the end.

    ``ignore_term=True``: it ignores SIGTERM (and has said so when this returns).
    ``mark``: it carries that run mark in its environment.
    """
    started: list[subprocess.Popen[bytes]] = []

    def run(*, ignore_term: bool = False, mark: str = "") -> subprocess.Popen[bytes]:
        env = {**os.environ, "HYPERDEME_RUN": mark} if mark else None
        trap = 'trap "" TERM; ' if ignore_term else ""
        process = subprocess.Popen(
            ["/bin/sh", "-c", f"{trap}echo ready; exec sleep 60"],
            stdout=subprocess.PIPE, env=env, start_new_session=True,
        )  # fmt: skip
        started.append(process)
        # reaped as soon as it ends, as the driver's dead processes are (by init)
        threading.Thread(target=process.wait, daemon=True).start()
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
        return process

    yield run
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def ended(process: subprocess.Popen[bytes], within: float = 5.0) -> int | None:
    """The process's return code once it ends within ``within`` seconds, else None."""
    try:
        return process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        return None


def test_the_program_imports_the_standard_library_only() -> None:
    """It runs in a bare interpreter (no site-packages, no hyperdeme on the path)."""
    tree = ast.parse(Path(PROGRAM).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"a relative import: {ast.unparse(node)}"
            imported.add(str(node.module).split(".")[0])
        elif isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
    assert imported - sys.stdlib_module_names == set()
    assert {"json", "os", "signal", "subprocess"} <= imported


def test_the_program_is_a_file_of_the_package_run_by_a_bare_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found beside the installed package, whatever the current directory."""
    monkeypatch.chdir(tmp_path)
    program_file = Path(PROGRAM)
    assert program_file.is_absolute()
    assert program_file.is_file()
    assert program_file.parent == Path(hyperdeme.__file__).parent / "launchers"
    argv = program_argv(grace=2.0, record=tmp_path / "r.json", mark="m")
    assert argv == [sys.executable, "-I", "-S", PROGRAM, "2.0", str(tmp_path / "r.json"), "m", ""]
    assert program_argv(grace=0.5, record=None, mark="m")[-3:] == ["", "m", ""]
    assert program_argv(grace=0.5, record=None, mark="m", cgroup="/c/hyperdeme-m")[-1] == (
        "/c/hyperdeme-m"
    )


def test_the_program_runs_nothing_on_import() -> None:
    """The driver imports it (for reap and its path): importing it must not start watching
    (which would wait for the pipe, here left open, to close)."""
    script = f"import runpy; runpy.run_path({PROGRAM!r}, run_name='imported')"
    process = subprocess.Popen([sys.executable, "-I", "-S", "-c", script], stdin=subprocess.PIPE)
    try:
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        assert process.stdin is not None
        process.stdin.close()
        process.wait()


def test_start_time_is_that_of_a_running_process_and_none_once_it_ended(start: Start) -> None:
    process = start()
    first = program.start_time(process.pid)
    assert first is not None
    assert first.isdigit()
    assert program.start_time(process.pid) == first
    process.kill()
    process.wait()
    assert program.start_time(process.pid) is None


def test_split_keeps_what_follows_the_last_newline() -> None:
    assert program.split(b'{"a"', b': 1}\n{"b": 2}\n{"c"') == ([b'{"a": 1}', b'{"b": 2}'], b'{"c"')
    assert program.split(b"", b"") == ([], b"")
    assert program.split(b"x", b"\n") == ([b"x"], b"")


def test_apply_holds_releases_and_says_goodbye(start: Start) -> None:
    process = start()
    held: dict[int, program.Entry] = {}
    assert not program.apply(held, {"op": "hold", "key": 1, "pgid": process.pid})
    assert not program.apply(held, {"op": "hold", "key": 2, "argv": ["qdel", "7"], "env": None})
    assert held == {
        1: {"pgid": process.pid, "start": program.start_time(process.pid)},
        2: {"argv": ["qdel", "7"], "env": None},
    }
    assert not program.apply(held, {"op": "release", "key": 1})
    assert not program.apply(held, {"op": "release", "key": 99})  # released twice: nothing
    assert list(held) == [2]
    assert program.apply(held, {"op": "exit"})
    assert list(held) == [2]


def test_a_held_group_keeps_the_start_time_it_was_held_with(start: Start) -> None:
    """A replayed record keeps its recorded start time (that is what spares a reused pid)."""
    process = start()
    held: dict[int, program.Entry] = {}
    program.apply(held, {"op": "hold", "key": 1, "pgid": process.pid, "start": "12"})
    assert held[1]["start"] == "12"


def test_save_writes_the_record_whole(tmp_path: Path) -> None:
    record = tmp_path / ".watchdog.json"
    held: dict[int, program.Entry] = {3: {"pgid": 42, "start": "7"}, 4: {"argv": ["x"]}}
    program.save(str(record), mark="tok", held=held)
    assert json.loads(record.read_text()) == {
        "mark": "tok",
        "held": [{"pgid": 42, "start": "7"}, {"argv": ["x"]}],
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == [".watchdog.json"]  # no .tmp left


def test_save_on_a_disk_it_cannot_write_goes_on(tmp_path: Path) -> None:
    """A full disk (here: a directory that does not exist) makes the record lag, no more."""
    record = tmp_path / "gone" / ".watchdog.json"
    program.save(str(record), mark="tok", held={1: {"pgid": 42}})
    assert not record.parent.exists()
    program.save("", mark="tok", held={1: {"pgid": 42}})  # no record kept: nothing written


def test_marked_finds_the_groups_of_processes_carrying_the_mark(start: Start) -> None:
    mark = uuid.uuid4().hex
    carrying, other = start(mark=mark), start(mark=uuid.uuid4().hex)
    unmarked = start()
    found = program.marked(mark)
    assert found == {carrying.pid}
    assert not found & {other.pid, unmarked.pid}
    assert program.marked("") == set()


def test_marked_spares_its_own_group() -> None:
    """A process of the watchdog's (or the reaping driver's) own group is never signalled."""
    mark = uuid.uuid4().hex
    child = subprocess.Popen(
        ["sleep", "60"], env={**os.environ, "HYPERDEME_RUN": mark}
    )  # this process's group
    try:
        assert program.marked(mark) == set()  # Popen returned: it runs sleep, with the mark
    finally:
        child.kill()
        child.wait()


def test_stop_terminates_the_held_groups(start: Start) -> None:
    process = start()
    program.stop(
        [{"pgid": process.pid, "start": program.start_time(process.pid)}], mark="", grace=5.0
    )
    assert ended(process, within=1) == -signal.SIGTERM


def test_stop_kills_a_group_that_ignores_sigterm_after_grace(start: Start) -> None:
    stubborn = start(ignore_term=True)
    began = time.monotonic()
    program.stop([{"pgid": stubborn.pid, "start": None}], mark="", grace=0.3)
    assert time.monotonic() - began >= 0.3
    assert ended(stubborn, within=1) == -signal.SIGKILL


def test_stop_spares_a_group_whose_leader_pid_was_reused(start: Start) -> None:
    """A held leader whose start time changed is another process with a reused pid."""
    process = start()
    program.stop([{"pgid": process.pid, "start": "0"}], mark="", grace=0.1)
    assert ended(process, within=0.2) is None


def test_stop_stops_the_marked_processes_nobody_held(start: Start) -> None:
    mark = uuid.uuid4().hex
    stray, stubborn, bystander = start(mark=mark), start(mark=mark, ignore_term=True), start()
    program.stop([], mark=mark, grace=0.3)
    assert ended(stray, within=1) == -signal.SIGTERM
    assert ended(stubborn, within=1) == -signal.SIGKILL
    assert ended(bystander, within=0.1) is None


def test_stop_runs_the_clean_up_commands_with_their_environment(tmp_path: Path) -> None:
    """And one that cannot start does not keep the others from running."""
    out = tmp_path / "out"
    env = {"WHO": "qdel 7", "PATH": os.environ["PATH"]}
    program.stop(
        [
            {"argv": [str(tmp_path / "not-installed")], "env": None},
            {"argv": ["/bin/sh", "-c", f'echo "$WHO" > {out}'], "env": env},
        ],
        mark="",
        grace=0.0,
    )
    assert out.read_text() == "qdel 7\n"  # stop waited for it


def test_a_clean_up_command_that_hangs_is_killed() -> None:
    commands = program.run_commands([{"argv": ["sleep", "60"]}])
    program.wait_for(commands, until=time.monotonic() - 100)  # waits its 1 s minimum
    assert [c.wait(timeout=5) for c in commands] == [-signal.SIGKILL]


def test_a_run_without_clean_up_commands_never_imports_subprocess() -> None:
    """subprocess is imported only when a command is held (the start stays cheap)."""
    script = (
        "import sys, runpy; sys.argv[1:] = ['0', '', '']; "
        f"runpy.run_path({PROGRAM!r}, run_name='__main__'); "
        "print('subprocess' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        input=b'{"op": "hold", "key": 1, "pgid": 999999999, "start": null}\n{"op": "exit"}\n',
        capture_output=True, timeout=30, check=True,
    )  # fmt: skip
    assert result.stdout == b"False\n"


def pipe_of(*messages: dict[str, object], close: bool = True) -> int:
    """The read end of a pipe holding ``messages`` as JSON lines (closed behind them)."""
    read, write = os.pipe()
    os.write(write, b"".join(json.dumps(m).encode() + b"\n" for m in messages))
    if close:
        os.close(write)
    return read


def test_watch_returns_what_is_held_when_the_driver_is_gone(tmp_path: Path) -> None:
    record = tmp_path / ".watchdog.json"
    fd = pipe_of(
        {"op": "hold", "key": 1, "pgid": 4242, "start": "5"},
        {"op": "hold", "key": 2, "argv": ["scancel", "9"], "env": None},
        {"op": "release", "key": 1},
    )
    try:
        held = program.watch(fd, record=str(record), mark="tok")
    finally:
        os.close(fd)
    assert held == {2: {"argv": ["scancel", "9"], "env": None}}
    assert json.loads(record.read_text()) == {"mark": "tok", "held": [dict(held[2])]}


def test_watch_returns_on_goodbye_with_the_pipe_still_open() -> None:
    fd = pipe_of({"op": "hold", "key": 1, "pgid": 4242, "start": "5"}, {"op": "exit"}, close=False)
    try:
        assert program.watch(fd, record="", mark="tok") == {1: {"pgid": 4242, "start": "5"}}
    finally:
        os.close(fd)


def test_watch_saves_a_batch_at_once_and_what_follows_once_the_driver_is_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most one save every SAVE_EVERY seconds (a process start costs no file write),
    and what came since is saved when no message came for that long. A line may be
    split between two reads."""
    monkeypatch.setattr(program, "SAVE_EVERY", 0.3)
    record = tmp_path / ".watchdog.json"
    read, write = os.pipe()
    result: dict[int, program.Entry] = {}
    watching = threading.Thread(
        target=lambda: result.update(program.watch(read, record=str(record), mark="tok"))
    )
    watching.start()
    try:
        os.write(write, b'{"op": "hold", "key": 1, "pgid": 42, "start": "5"}\n{"op": "ho')
        assert _await_held(record, [42])  # the first batch: saved at once
        os.write(write, b'ld", "key": 2, "pgid": 43, "start": "6"}\n')
        assert _await_held(record, [42, 43])  # the driver is quiet: saved within 0.3 s
    finally:
        os.close(write)
        watching.join(timeout=5)
        os.close(read)
    assert sorted(result) == [1, 2]


def _await_held(record: Path, pgids: list[int]) -> bool:
    deadline = time.monotonic() + 5
    while _held_in(record) != pgids and time.monotonic() < deadline:
        time.sleep(0.01)
    return _held_in(record) == pgids


def _held_in(record: Path) -> list[int]:
    try:
        return [entry["pgid"] for entry in json.loads(record.read_text())["held"]]
    except (OSError, ValueError):
        return []


def test_the_program_stops_what_is_held_and_removes_its_record(
    tmp_path: Path, start: Start
) -> None:
    """The whole program as the driver runs it: the pipe closes without a goodbye."""
    record = tmp_path / ".watchdog.json"
    process = start()
    watchdog = subprocess.Popen(
        program_argv(grace=2.0, record=record, mark=""), stdin=subprocess.PIPE, cwd="/"
    )
    assert watchdog.stdin is not None
    watchdog.stdin.write(b'{"op": "hold", "key": 1, "pgid": %d}\n' % process.pid)
    watchdog.stdin.close()
    assert watchdog.wait(timeout=10) == 0
    assert ended(process, within=1) == -signal.SIGTERM
    assert not record.exists()


# ------------------------------------------------------- mutants killed (scripts/mutants)


def test_save_leaves_the_record_the_owner_s_alone_to_write_and_never_follows_a_link(
    tmp_path: Path,
) -> None:
    """Promise: reap() signals the groups a record lists, so nobody but its owner may write
    it (mode 0644 less the umask, never executable), it is never written through a link
    planted where its temporary file goes, and a longer temporary file left by a crash
    does not leave its tail in the record."""
    record = tmp_path / ".watchdog.json"
    program.save(str(record), mark="tok", held={})
    umask = os.umask(0)
    os.umask(umask)
    assert record.stat().st_mode & 0o777 == 0o644 & ~umask
    record.unlink()

    victim = tmp_path / "victim"
    victim.write_text("not the watchdog's\n")
    (tmp_path / ".watchdog.json.tmp").symlink_to(victim)
    program.save(str(record), mark="tok", held={1: {"pgid": 42, "start": "7"}})
    assert victim.read_text() == "not the watchdog's\n"  # the link was not followed
    assert not record.exists()  # the record lags instead

    (tmp_path / ".watchdog.json.tmp").unlink(missing_ok=True)
    (tmp_path / ".watchdog.json.tmp").write_text("x" * 10_000)  # a crash's leftover
    program.save(str(record), mark="tok", held={1: {"pgid": 42, "start": "7"}})
    assert json.loads(record.read_text()) == {"mark": "tok", "held": [{"pgid": 42, "start": "7"}]}


TRAP_CLEANUP = (
    "import signal, sys, time\n"
    "notes = open(sys.argv[1], 'a', buffering=1)\n"
    "def on_term(*_):\n"
    "    notes.write('TERM\\n'); time.sleep(0.5); notes.write('cleaned\\n'); sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, on_term)\n"
    "print('ready', flush=True)\n"
    "while True: time.sleep(0.05)\n"
)


def test_stop_gives_the_grace_to_clean_up_and_returns_once_all_ended(tmp_path: Path) -> None:
    """Promise: SIGTERM, then up to ``grace`` seconds for the groups to end (a clean-up of
    half a second completes), and stop returns as soon as they did, not after the whole
    grace (the driver's close waits for the watchdog)."""
    notes = tmp_path / "notes"
    process = subprocess.Popen(
        [sys.executable, "-c", TRAP_CLEANUP, str(notes)],
        stdout=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    threading.Thread(target=process.wait, daemon=True).start()
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
        entries: list[program.Entry] = [{"pgid": process.pid, "start": None}]
        stopping = threading.Thread(target=program.stop, args=(entries,), daemon=True,
                                    kwargs={"mark": "", "grace": 300.0})  # fmt: skip
        stopping.start()
        stopping.join(timeout=60)
        assert not stopping.is_alive()  # returned long before the 300 s grace
        assert notes.read_text().splitlines() == ["TERM", "cleaned"]
        assert ended(process, within=5) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_a_clean_up_command_past_the_deadline_still_gets_a_second(tmp_path: Path) -> None:
    """Promise: each clean-up command (``qdel``) is waited for at least 1 s, however late
    (a slow grace), before it is killed: a quick one completes."""
    done = tmp_path / "done"
    commands = program.run_commands([{"argv": ["/bin/sh", "-c", f"sleep 0.2; echo ok > {done}"]}])
    program.wait_for(commands, until=time.monotonic() - 100)
    assert [c.wait(timeout=5) for c in commands] == [0]
    assert done.read_text() == "ok\n"


def test_watch_writes_the_record_at_start_naming_the_mark_and_the_cgroup(tmp_path: Path) -> None:
    """Promise: the record exists from the start, nothing held yet, naming the run's mark
    and cgroup: a driver and watchdog killed together before any hold still leave
    reap() what it needs to stop what carries the mark or sits in the cgroup."""
    record = tmp_path / ".watchdog.json"
    cgroup = "/sys/fs/cgroup/hyperdeme-1-" + "c" * 32
    read, write = os.pipe()
    watching = threading.Thread(
        target=program.watch,
        args=(read,),
        daemon=True,
        kwargs={"record": str(record), "mark": "tok", "cgroup": cgroup},
    )
    watching.start()
    try:
        deadline = time.monotonic() + 20
        while not record.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert json.loads(record.read_text()) == {"mark": "tok", "held": [], "cgroup": cgroup}
    finally:
        os.close(write)
        watching.join(timeout=20)
        os.close(read)


def test_watch_saves_at_most_once_every_save_every(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Promise: a process start costs no file write: within SAVE_EVERY of a save, holds
    are kept in memory only (here SAVE_EVERY is long: the second hold is never saved,
    the driver being gone before it is due)."""
    monkeypatch.setattr(program, "SAVE_EVERY", 1000.0)
    record = tmp_path / ".watchdog.json"
    read, write = os.pipe()
    result: dict[int, program.Entry] = {}
    watching = threading.Thread(
        target=lambda: result.update(program.watch(read, record=str(record), mark="tok"))
    )
    watching.start()
    try:
        os.write(write, b'{"op": "hold", "key": 1, "pgid": 42, "start": "5"}\n')
        assert _await_held(record, [42])  # the first: saved at once
        os.write(write, b'{"op": "hold", "key": 2, "pgid": 43, "start": "6"}\n')
    finally:
        os.close(write)
        watching.join(timeout=20)
        os.close(read)
    assert sorted(result) == [1, 2]  # both were held
    assert _held_in(record) == [42]  # the second was not written


def test_the_program_keeps_its_record_where_it_is_told_and_nowhere_else(tmp_path: Path) -> None:
    """Promise: the program writes its record at the path it is given (from the start:
    reap() looks there), whatever its current directory, and removes it at its end."""
    record = tmp_path / ".watchdog.json"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    mark = uuid.uuid4().hex
    watchdog = subprocess.Popen(
        program_argv(grace=0.5, record=record, mark=mark), stdin=subprocess.PIPE, cwd=cwd
    )
    try:
        deadline = time.monotonic() + 20
        while not record.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert json.loads(record.read_text()) == {"mark": mark, "held": []}
    finally:
        assert watchdog.stdin is not None
        watchdog.stdin.close()
        assert watchdog.wait(timeout=20) == 0
    assert not record.exists()
    assert list(cwd.iterdir()) == []


@pytest.fixture
def run_cgroup() -> Iterator[str]:
    """A run's cgroup, as a driver makes it (skipped without a writable cgroup v2)."""
    containment = Containment(token=uuid.uuid4().hex)
    try:
        if containment.kind != "cgroup":
            pytest.skip("no writable cgroup v2 here")
        yield containment.cgroup
    finally:
        containment.close(grace=0.0)


IGNORE_TERM = (
    "import signal, sys, time\n"
    "notes = open(sys.argv[1], 'a', buffering=1)\n"
    "signal.signal(signal.SIGTERM, lambda *a: notes.write('TERM\\n'))\n"
    "print('ready', flush=True)\n"
    "while True: time.sleep(0.05)\n"
)


def test_stop_empties_the_run_s_cgroup_sigterm_first_and_removes_it(
    tmp_path: Path, run_cgroup: str
) -> None:
    """Promise: what is in the run's cgroup (here in a trial's cgroup under it, in no
    held group and without the mark: a daemon that left both) gets SIGTERM, the grace,
    then is killed (``cgroup.kill``), and the cgroups are removed."""
    trial = os.path.join(run_cgroup, "1")
    os.mkdir(trial)
    notes = tmp_path / "notes"
    process = subprocess.Popen(
        [sys.executable, "-c", IGNORE_TERM, str(notes)],
        stdout=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    threading.Thread(target=process.wait, daemon=True).start()
    try:
        with open(os.path.join(trial, "cgroup.procs"), "w") as procs:
            procs.write(str(process.pid))
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
        stopping = threading.Thread(
            target=program.stop, args=([],), daemon=True,
            kwargs={"mark": "", "grace": 0.5, "cgroup": run_cgroup},
        )  # fmt: skip
        stopping.start()
        stopping.join(timeout=60)
        assert not stopping.is_alive()
        assert ended(process, within=5) == -signal.SIGKILL
        assert notes.read_text().splitlines() == ["TERM"]
        assert not os.path.exists(run_cgroup)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_removing_an_empty_cgroup_returns_once_it_is_gone(run_cgroup: str) -> None:
    """Promise: remove_cgroup retries only while a cgroup still has a process; one that
    is removed at once is not waited on for the rest of ``within``."""
    empty = os.path.join(run_cgroup, "2", "3")
    os.makedirs(empty)
    removing = threading.Thread(
        target=program.remove_cgroup, args=(os.path.dirname(empty),), daemon=True,
        kwargs={"within": 600.0},
    )  # fmt: skip
    removing.start()
    removing.join(timeout=60)
    assert not removing.is_alive()
    assert not os.path.exists(os.path.dirname(empty))


def test_start_time_of_a_program_named_with_parentheses(tmp_path: Path) -> None:
    """Promise: a program may be named anything (its name is in /proc/<pid>/stat between
    parentheses): one named with ")" still has its start time, so it is told from a
    reused pid and never taken for one that ended."""
    odd = tmp_path / "a) b) c"
    odd.symlink_to(shutil.which("sleep") or "/bin/sleep")
    process = subprocess.Popen([str(odd), "60"])
    try:
        deadline = time.monotonic() + 20
        while b")" not in Path(f"/proc/{process.pid}/comm").read_bytes():
            assert time.monotonic() < deadline  # until it runs under its own name
            time.sleep(0.01)
        started = program.start_time(process.pid)
        assert started is not None
        assert started.isdigit()
        assert program.start_time(process.pid) == started
    finally:
        process.kill()
        process.wait()
