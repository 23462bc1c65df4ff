"""A program's output written by the kernel straight into the trial's log files
(hyperdeme.launchers._direct): no pipe, read back once the program ended; pumped
through a pipe while a live step listener (early stopping) needs it as printed."""

from __future__ import annotations

import errno
import os
import resource
import sys
from pathlib import Path

import anyio
import pytest

from hyperdeme._engine import _sinks
from hyperdeme._engine._metrics import MetricSpec
from hyperdeme._engine._sinks import LogSink
from hyperdeme.launchers import run_process
from hyperdeme.launchers._direct import CATCH_UP_CHUNK

#: prints what its stdout is (a regular file, a pipe), a FoM, and a line to stderr
KINDS = (
    "import os, stat, sys\n"
    "kind = lambda fd: 'file' if stat.S_ISREG(os.fstat(fd).st_mode) else 'pipe'\n"
    "print(kind(1), kind(2)); print('FoM: 0.25')\n"
    "print('bad news', file=sys.stderr)\n"
)


async def test_without_a_live_listener_the_program_writes_its_logs_itself(
    tmp_path: Path,
) -> None:
    steps: list[float] = []
    spec = MetricSpec("FoM: ")
    out = LogSink(tmp_path / "stdout.log", scanner=spec.scanner(steps.append, live=False))
    err = LogSink(tmp_path / "stderr.log")
    with out, err:
        code = await run_process([sys.executable, "-c", KINDS], stdout=out, stderr=err)
    assert code == 0
    assert (tmp_path / "stdout.log").read_text() == "file file\nFoM: 0.25\n"
    assert out.scanner is not None
    assert out.scanner.close() == {"FoM": 0.25}  # scanned from the file
    assert steps == [0.25]  # the same steps, heard once it ended
    assert err.tail == "bad news"
    assert out.error is None
    assert err.error is None


async def test_a_live_listener_hears_each_step_while_the_program_runs(tmp_path: Path) -> None:
    """The program waits for a file the listener makes when it hears the first FoM:
    it ends only if the step was heard as it was printed (through a pipe)."""
    go = tmp_path / "go"
    code = (
        KINDS + "import sys, time\nsys.stdout.flush()\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
    )
    scanner = MetricSpec("FoM: ").scanner(lambda fom: go.touch())
    out = LogSink(tmp_path / "stdout.log", scanner=scanner)
    err = LogSink(tmp_path / "stderr.log")
    with out, err, anyio.fail_after(30):
        assert await run_process([sys.executable, "-c", code], stdout=out, stderr=err) == 0
    assert (tmp_path / "stdout.log").read_text().startswith("pipe file\n")  # stderr: direct


async def test_a_long_output_is_read_back_whole_in_steps_and_stderr_only_its_tail(
    tmp_path: Path,
) -> None:
    code = (
        "import sys\n"
        f"sys.stdout.write(('x' * 99 + '\\n') * {3 * CATCH_UP_CHUNK // 100} + 'FoM: 7\\n')\n"
        f"sys.stderr.write('e' * {3 * CATCH_UP_CHUNK} + 'the end')\n"
    )
    out = LogSink(tmp_path / "stdout.log", scanner=MetricSpec("FoM: ").scanner())
    err = LogSink(tmp_path / "stderr.log")
    with out, err:
        assert await run_process([sys.executable, "-c", code], stdout=out, stderr=err) == 0
    assert out.scanner is not None
    assert out.scanner.close() == {"FoM": 7.0}
    assert err.tail.endswith("the end")


def _ended_program(sink: LogSink, data: bytes) -> None:
    """What a program that wrote ``data`` to the sink's descriptor leaves."""
    fd = sink.direct()
    assert fd is not None
    os.write(fd, data)
    while not sink.catch_up(CATCH_UP_CHUNK):
        pass


def test_a_log_as_large_as_ulimit_f_allows_was_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The program got EFBIG (or SIGXFSZ), not the driver: the sink says so itself."""
    monkeypatch.setattr(_sinks.resource, "getrlimit", lambda which: (10, resource.RLIM_INFINITY))
    with LogSink(tmp_path / "stdout.log", scanner=MetricSpec("FoM: ").scanner()) as sink:
        _ended_program(sink, b"FoM: 1\nxxxx")
    assert sink.error is not None
    assert sink.error.errno == errno.EFBIG
    with LogSink(tmp_path / "small.log") as small:
        _ended_program(small, b"FoM: 1\n")
    assert small.error is None


def test_no_metric_on_a_full_file_system_is_the_disk_s_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = os.statvfs_result((4096, 4096, 100, 0, 0, 100, 0, 0, 0, 255))
    monkeypatch.setattr(os, "fstatvfs", lambda fd: full)
    with LogSink(tmp_path / "stdout.log", scanner=MetricSpec("FoM: ").scanner()) as found:
        _ended_program(found, b"FoM: 1\n")
    assert found.error is None  # its FoM arrived: nothing was lost that counts
    with LogSink(tmp_path / "lost.log", scanner=MetricSpec("FoM: ").scanner()) as lost:
        _ended_program(lost, b"epoch 1\n")
    assert lost.error is not None
    assert lost.error.errno == errno.ENOSPC
