"""Real runs for the dashboard's tests: an experiment of the slow program, its driver a
subprocess (``python -m hyperdeme run``), and ways to end it (SIGTERM, or SIGKILL to
leave it interrupted)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).parent
HOSTILE = "<img src=x onerror=document.title='pwned-flag'>"


def experiment(directory: Path, name: str, *, sleep: float, trials: int, slots: int = 2) -> Path:
    """An experiment file: ``trials`` random trials of the slow program, ``slots`` at once;
    its ``--tag`` flag takes a hostile value."""
    path = directory / f"{name}.toml"
    path.write_text(
        f"""
command = "{sys.executable} slow_train.py --sleep {sleep}"
name = "{name}"

[evaluator]
src_path = "{HERE}"
run_path = "run"
num_parallel_evals = {slots}

[optimizer]
type = "random"
num_iters = {trials}
seed = 3

[params."--lr"]
default = 0.1
range = [1e-5, 1.0]
log = true

[params."--layers"]
default = 3
range = [1, 6]

[params."--tag"]
default = {json.dumps(HOSTILE)}
values = [{json.dumps(HOSTILE)}, "plain"]
"""
    )
    return path


def invoke(*argv: str | Path) -> tuple[int, str, str]:
    """The command run in this process: its exit code, stdout and stderr."""
    from hyperdeme._cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def environment() -> dict[str, str]:
    source = str(Path(__import__("hyperdeme").__file__).parent.parent)
    return {**os.environ, "PYTHONPATH": source}


def start(file: Path) -> subprocess.Popen[bytes]:
    """The driver of ``file``'s experiment, in its own session (its stderr in
    ``<file>.stderr``)."""
    with file.with_suffix(".stderr").open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "hyperdeme", "run", str(file), "--quiet"],
            cwd=file.parent,
            env=environment(),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def wait_until(condition: object, *, deadline: float = 60.0, what: str = "") -> None:
    end = time.monotonic() + deadline
    while not condition():  # type: ignore[operator]
        if time.monotonic() > end:
            raise TimeoutError(f"not within {deadline} s: {what}")
        time.sleep(0.05)


def started_count(journal: Path) -> int:
    try:
        lines = journal.read_bytes().split(b"\n")[:-1]  # whole lines only
    except FileNotFoundError:
        return 0
    return sum(json.loads(line).get("type") == "started" for line in lines if line.strip())


def kill(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGKILL) -> None:
    """Send ``sig`` to the driver; then make sure it and every process it started are gone."""
    try:
        family = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for child in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(family, timeout=10)
