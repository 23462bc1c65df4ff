"""Choosing the containment of a run (hyperdeme.launchers._contain); the processes it
stops are tested in tests/faults/test_containment.py."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
from pathlib import Path

import anyio.to_thread
import pytest
from structlog.testing import capture_logs

from hyperdeme.launchers import _contain
from hyperdeme.launchers._contain import Containment
from hyperdeme.launchers._watchdog import _cgroup


def subreaper_flag() -> int:
    flag = ctypes.c_int(0)
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    assert libc.prctl(37, ctypes.byref(flag), 0, 0, 0) == 0  # PR_GET_CHILD_SUBREAPER
    return flag.value


def test_a_cgroup_under_this_process_s_own_where_one_can_be_made() -> None:
    containment = Containment(token="t" * 32)
    if containment.kind != "cgroup":
        containment.close(grace=0.0)
        if os.environ.get("CI"):
            pytest.fail("CI runs as root: a cgroup v2 can be made")
        pytest.skip("no writable cgroup v2 here")
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
        assert os.path.basename(containment.cgroup) == (
            f"hyperdeme-{os.getpid()}-{namespace}-" + "t" * 32
        )
        with open("/proc/self/cgroup") as f:
            own = next(line[3:].strip() for line in f if line.startswith("0::"))
        assert (os.path.dirname(containment.cgroup) + "/").endswith(own.rstrip("/") + "/")
        cell = containment.cell()
        assert os.path.dirname(cell.cgroup) == containment.cgroup
        procs = os.path.join(cell.cgroup, "cgroup.procs")
        # the local launcher's shell moves itself: no other program is started
        assert cell.argv(["/bin/sh", "-c", "run it"]) == [
            "/bin/sh", "-c", f"echo 0 2>/dev/null >{procs}\nrun it"
        ]  # fmt: skip
        assert cell.argv(["srun", "x"])[3:] == [procs, "srun", "x"]
        assert cell.env({"A": "1"}) == {"A": "1"}  # the cgroup, no per-trial mark
    finally:
        containment.close(grace=0.0)
    assert not os.path.exists(containment.cgroup)


def test_without_a_cgroup_a_library_run_uses_the_mark_and_the_command_a_subreaper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A subreaper would adopt an embedding application's orphans too: only in
    hyperdeme's own process (allow_subreaper, called by the command)."""
    monkeypatch.setattr(_contain, "_make_cgroup", lambda name: "")
    monkeypatch.setattr(_contain, "_OWN_PROCESS", False)
    library = Containment(token="a" * 32)
    assert library.kind == "mark"
    cell = library.cell()
    assert cell.env({"A": "1"}) == {"A": "1", "HYPERDEME_TRIAL": cell.mark}
    assert cell.argv(["/bin/sh", "-c", "x"]) == ["/bin/sh", "-c", "x"]
    library.close(grace=0.0)

    before = subreaper_flag()
    _contain.allow_subreaper()
    command = Containment(token="b" * 32)
    try:
        assert command.kind == "subreaper"
        assert subreaper_flag() == 1
    finally:
        command.close(grace=0.0)
    assert subreaper_flag() == before


def test_the_containment_is_chosen_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPERDEME_CONTAINMENT", "mark")
    assert Containment(token="c" * 32).kind == "mark"
    monkeypatch.setenv("HYPERDEME_CONTAINMENT", "subreaper")
    forced = Containment(token="d" * 32)
    forced.close(grace=0.0)
    assert forced.kind == "subreaper"
    monkeypatch.setenv("HYPERDEME_CONTAINMENT", "jail")
    with capture_logs() as logs:
        chosen = Containment(token="e" * 32)
    chosen.close(grace=0.0)
    assert logs[0]["event"] == "containment.unknown"
    assert logs[0]["value"] == "jail"


def test_a_recorded_cgroup_must_be_one_hyperdeme_made() -> None:
    """reap() empties the cgroup a watchdog's record names: never any other."""
    assert _cgroup(None) == ""
    assert _cgroup("/sys/fs/cgroup/hyperdeme-" + "f" * 32) == "/sys/fs/cgroup/hyperdeme-" + "f" * 32
    for bad in ("/sys/fs/cgroup", "relative/hyperdeme-x", "/a/../hyperdeme-x/..", 3):
        with pytest.raises((ValueError, TypeError)):
            _cgroup(bad)


def test_the_cgroup_of_a_driver_that_is_gone_is_emptied_and_removed() -> None:
    """Its driver and watchdog killed together: the next run (any experiment) stops
    what that run's cgroup holds and removes it; a live driver's is left alone."""
    probe = Containment(token="p" * 32)
    probe.close(grace=0.0)
    if probe.kind != "cgroup":
        pytest.skip("no writable cgroup v2 here")
    parent = os.path.dirname(probe.cgroup)
    gone = subprocess.Popen(["true"])
    gone.wait()  # its pid is free now: a dead driver's
    stale = os.path.join(parent, f"hyperdeme-{gone.pid}-" + "s" * 32)
    live = os.path.join(parent, f"hyperdeme-{os.getpid()}-" + "l" * 32)
    os.makedirs(os.path.join(stale, "1"))
    os.mkdir(live)
    orphan = subprocess.Popen(["sleep", "300"])
    try:
        with open(os.path.join(stale, "1", "cgroup.procs"), "w") as procs:
            procs.write(str(orphan.pid))
        with capture_logs() as logs:
            Containment(token="q" * 32).close(grace=0.0)
        assert orphan.wait(timeout=5) == -9
        assert not os.path.exists(stale)
        assert os.path.isdir(live)
        assert [e["cgroup"] for e in logs if e["event"] == "containment.stale_removed"] == [stale]
    finally:
        orphan.kill()
        orphan.wait()
        os.rmdir(live)


def test_the_cgroup_of_a_run_in_another_pid_namespace_is_left_alone() -> None:
    """A driver in another PID namespace (a container, ``unshare --pid``) sharing this
    cgroup hierarchy: its pid means nothing here, so a run here never judges it gone
    and never stops what its cgroup holds (a mutation run in a namespace killed a run
    beside it that way)."""
    probe = Containment(token="p" * 32)
    probe.close(grace=0.0)
    if probe.kind != "cgroup":
        pytest.skip("no writable cgroup v2 here")
    parent = os.path.dirname(probe.cgroup)
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid free here
    elsewhere = os.stat("/proc/self/ns/pid").st_ino + 1
    other = os.path.join(parent, f"hyperdeme-{gone.pid}-{elsewhere}-" + "o" * 32)
    os.makedirs(os.path.join(other, "1"))
    running = subprocess.Popen(["sleep", "300"])
    try:
        with open(os.path.join(other, "1", "cgroup.procs"), "w") as procs:
            procs.write(str(running.pid))
        Containment(token="q" * 32).close(grace=0.0)
        assert running.poll() is None
        assert os.path.isdir(other)
    finally:
        running.kill()
        running.wait()
        for directory in (os.path.join(other, "1"), other):
            os.rmdir(directory)


def test_no_signal_goes_to_0_1_or_below(monkeypatch: pytest.MonkeyPatch) -> None:
    """kill(0) is the caller's own group, kill(-1) every process it may signal: a pid
    read as 0 (a process of another PID namespace in cgroup.procs) or a bad record
    never becomes one of those."""
    from hyperdeme.launchers import _watchdog_program as program

    sent: list[int] = []
    monkeypatch.setattr(program.os, "kill", lambda pid, sig: sent.append(pid))
    program.signal_pids([0, 1, -1, -7, 4242], program.signal.SIGTERM)
    assert sent == [4242]


def test_pids_of_another_namespace_read_as_0_are_dropped(tmp_path: Path) -> None:
    (tmp_path / "1").mkdir()
    (tmp_path / "cgroup.procs").write_text("0\n0\n")
    (tmp_path / "1" / "cgroup.procs").write_text("4242\n0\n")
    from hyperdeme.launchers import _watchdog_program as program

    assert program.cgroup_pids(str(tmp_path)) == [4242]


def test_a_cell_made_later_is_made_by_make_or_falls_back_to_a_mark(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """run_process asks for its cell with make=False and makes it in the starting thread
    (a cgroup's mkdir is milliseconds on a loaded machine: off the event loop)."""
    containment = Containment(token="u" * 32)
    try:
        later = containment.cell(make=False)
        assert (later.cgroup, later.mark) == ("", "")  # nothing made yet
        if containment.kind == "cgroup":
            assert os.listdir(containment.cgroup).count("1") == 0
        later.make()
        if containment.kind == "cgroup":
            assert os.path.isdir(later.cgroup)
            assert os.path.dirname(later.cgroup) == containment.cgroup
            assert later.mark == ""

            def full(path: str, mode: int = 0o777) -> None:
                raise OSError(11, "Resource temporarily unavailable")

            monkeypatch.setattr(os, "mkdir", full)  # cgroup.max.descendants reached
            refused = containment.cell(make=False)
            refused.make()
            assert refused.cgroup == ""
            assert len(refused.mark) == 32
            monkeypatch.undo()
            os.rmdir(later.cgroup)
        else:
            assert later.cgroup == ""
            assert len(later.mark) == 32
    finally:
        containment.close(grace=0.0)


def cgroup_containment(token: str) -> Containment:
    containment = Containment(token=token * 32)
    if containment.kind != "cgroup":
        containment.close(grace=0.0)
        pytest.skip("no writable cgroup v2 here")
    return containment


async def test_a_slot_s_cgroup_is_reused_by_the_next_trial_with_no_thread_hop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cgroups per slot, not per trial: a trial that left its cgroup empty gives it to
    the next one (no mkdir, no rmdir, no thread hop); trials at once get one each;
    the run's close removes them all with the run's cgroup."""
    containment = cgroup_containment("r")

    def hop(*args: object, **kwargs: object) -> None:
        raise AssertionError("an empty cgroup awaited a thread")

    monkeypatch.setattr(anyio.to_thread, "run_sync", hop)
    try:
        seen = set()
        for _ in range(20):
            cell = containment.cell()
            program = cell.argv(["/bin/sh", "-c", "cat /proc/self/cgroup"])
            inside = subprocess.run(program, check=True, capture_output=True)  # noqa: ASYNC221
            assert inside.stdout.decode().strip().endswith(cell.cgroup.split("/")[-1])
            seen.add(cell.cgroup)
            await cell.empty(grace=0.0)
        assert len(seen) == 1
        two = [containment.cell(), containment.cell()]
        assert len({cell.cgroup for cell in two}) == 2
        for cell in two:
            await cell.empty(grace=0.0)
        assert sorted(os.listdir(containment.cgroup)).count("1") == 1
        assert {"1", "2"} <= set(os.listdir(containment.cgroup))
        assert "3" not in os.listdir(containment.cgroup)
    finally:
        containment.close(grace=0.0)
    assert not os.path.exists(containment.cgroup)  # noqa: ASYNC240


async def test_what_a_trial_left_in_its_slot_s_cgroup_is_stopped_before_the_next_uses_it() -> None:
    """A daemon left by a trial (its own session, its environment emptied) is stopped
    when the trial is emptied; only then is the cgroup the next trial's."""
    containment = cgroup_containment("d")
    try:
        cell = containment.cell()
        program = cell.argv(["/bin/sh", "-c", "setsid env -i sleep 60 >/dev/null 2>&1 &"])
        subprocess.run(program, check=True)  # noqa: ASYNC221
        with open(os.path.join(cell.cgroup, "cgroup.procs")) as f:  # noqa: ASYNC230
            daemon = [int(pid) for pid in f.read().split()]
        assert len(daemon) == 1
        await cell.empty(grace=5.0)
        assert not _contain._running(daemon[0])  # gone, or a zombie of init's
        assert _contain._populated(cell.cgroup) is False
        assert containment.cell().cgroup == cell.cgroup  # empty: reused
    finally:
        containment.close(grace=0.0)


async def test_a_slot_s_cgroup_that_cannot_be_emptied_or_is_gone_is_not_reused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    containment = cgroup_containment("n")
    try:
        stuck = containment.cell()
        subprocess.run(stuck.argv(["/bin/sh", "-c", "sleep 60 &"]), check=True)  # noqa: ASYNC221

        async def never(cgroup: str, *, grace: float) -> bool:
            return False

        monkeypatch.setattr(_contain, "_empty_cgroup", never)
        with capture_logs() as logs:
            await stuck.empty(grace=0.0)
        assert [e["cgroup"] for e in logs if e["event"] == "containment.cell_not_emptied"] == [
            stuck.cgroup
        ]
        gone = containment.cell()
        assert gone.cgroup != stuck.cgroup
        os.rmdir(gone.cgroup)  # removed meanwhile: the next program could not enter it
        await gone.empty(grace=0.0)
        assert containment.cell().cgroup not in (stuck.cgroup, gone.cgroup)
    finally:
        monkeypatch.undo()
        containment.close(grace=0.0)
    assert not os.path.exists(containment.cgroup)  # noqa: ASYNC240
