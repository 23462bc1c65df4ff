"""A disk already full when the run starts: a clear error naming the path, nothing stray.

It was a raw ``OSError`` without a path, and ``.driver.<pid>`` (the lock holder's
temporary file) and ``.watchdog.json.tmp`` were left behind. Injected with a
full tmpfs (root), and ``RLIMIT_FSIZE`` for the watchdog's record.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme import JournalError
from hyperdeme._cli import main
from hyperdeme.launchers import _watchdog_program

from .conftest import Mount
from .support import fill


def run(run_path: Path, src: Path) -> hyperdeme.Result:
    evaluator = hyperdeme.Evaluator("echo FoM: 1", run_path=str(run_path), src_path=str(src))
    optimizer = hyperdeme.RandomOptimizer(evaluator, num_iters=2, seed=1, name="exp")
    return optimizer.optimize(hyperdeme.Params([["--x", [1, 2, 3]]]))


def test_a_full_disk_at_start_names_the_path_and_leaves_nothing_stray(
    tmp_path: Path, tmpfs: Mount, src: Path
) -> None:
    disk = tmpfs(tmp_path / "disk", 8192)
    fill(disk)
    with pytest.raises(JournalError) as caught:
        run(disk / "run", src)
    experiment = disk / "run" / "exp"
    message = str(caught.value)
    assert f"cannot start the run in {experiment}: writing {experiment}/.driver." in message
    assert "No space left on device (ENOSPC)" in message
    assert isinstance(caught.value, OSError)  # as every journal error
    assert sorted(os.listdir(experiment)) == [".lock"]  # no .driver.<pid>, no partial file


def test_the_command_says_it_in_one_line(tmp_path: Path, tmpfs: Mount, src: Path) -> None:
    disk = tmpfs(tmp_path / "disk", 8192)
    fill(disk)
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(
        f'command = "echo FoM: 1"\nname = "exp"\n[evaluator]\nrun_path = "{disk / "run"}"\n'
        f'src_path = "{src}"\n[optimizer]\ntype = "random"\nnum_iters = 2\n'
        '[params."--x"]\nvalues = [1, 2]\n'
    )
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", str(experiment)])
    assert code != 0
    assert "Traceback" not in err.getvalue()
    assert f"cannot start the run in {disk / 'run' / 'exp'}" in err.getvalue()
    assert not [name for name in os.listdir(disk / "run" / "exp") if name.startswith(".driver")]


def in_child_with_file_size_limit(work: Callable[[], object]) -> int:
    """Run ``work`` in a forked child whose writes past 16 bytes fail with EFBIG (a full
    disk alike; SIGXFSZ ignored); its exit code (0: it returned). A child, not this
    process: pytest's own output, written meanwhile to a log file, would fail too."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (16, resource.RLIM_INFINITY))
            work()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_watchdog_record_that_cannot_be_written_leaves_no_temporary_file(
    tmp_path: Path,
) -> None:
    record = tmp_path / ".watchdog.json"
    held = {1: {"pgid": 12345, "start": "1"}}
    saved = in_child_with_file_size_limit(
        lambda: _watchdog_program.save(str(record), mark="m" * 64, held=held)  # type: ignore[dict-item]
    )
    assert saved == 0  # a record that cannot be written is no error: it only lags
    assert os.listdir(tmp_path) == []
