"""Fixtures for the real OpenPBS server that ``scripts/pbs-up`` starts.

``scripts/test`` (as root) builds OpenPBS once per machine, starts it in its
network namespace and exports ``HYPERDEME_PBS_ENV``: the env file the server
wrote (``.pbs/env``: ``HYPERDEME_PBS_EXEC``, ``_HOST``, ``_USER``,
``_PYTHON``). The drivers run as that plain user through ``scripts/pbs-exec``
(PBS refuses root's jobs and answers only inside its namespace), in a directory
the user owns. Without a server the tests are skipped with the reason, except
under CI, where a missing server fails the run.
"""

from __future__ import annotations

import json
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).parents[3]
DRIVE = Path(__file__).with_name("drive.py")
SCRATCH = Path("/var/tmp/hyperdeme-pbs-tests")


def _load() -> dict[str, str] | str:
    path = Path(os.environ.get("HYPERDEME_PBS_ENV", REPO / ".pbs" / "env"))
    if os.geteuid() != 0:
        return "the real-PBS tests run as root (scripts/pbs-exec enters PBS's namespace)"
    if not path.exists():
        return f"no PBS server: {path} is missing (run scripts/pbs-up)"
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            env[key.strip()] = " ".join(shlex.split(value))
    probe = subprocess.run(
        [env["HYPERDEME_PBS_EXEC"], "qstat", "-B"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        return f"PBS server of {path} does not answer: {(probe.stderr or probe.stdout).strip()}"
    return env


@pytest.fixture(scope="session")
def _pbs_env() -> dict[str, str]:
    loaded = _load()
    if isinstance(loaded, str):
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real-PBS tests, but {loaded}")
        pytest.skip(loaded)
    return loaded


class Server:
    """The running server: PBS commands through ``pbs-exec``, and the drivers."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.exec = env["HYPERDEME_PBS_EXEC"]
        self.host = env["HYPERDEME_PBS_HOST"]
        self.user = env["HYPERDEME_PBS_USER"]
        self.python = env["HYPERDEME_PBS_PYTHON"]
        self.workdir = workdir  # owned by the user: run paths go here

    def run(
        self, *argv: str, user: str = "", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """A command in PBS's namespace, as the test user (or ``user``)."""
        return subprocess.run(
            [self.exec, "--user", user or self.user, *argv],
            capture_output=True, text=True, timeout=60, check=check, cwd=self.workdir,
        )  # fmt: skip

    def unfinished(self) -> list[str]:
        """Ids of the jobs PBS still holds as queued, running or exiting (not finished)."""
        return self.run("qselect", user="root").stdout.split()

    def history(self, jobid: str) -> dict[str, Any]:
        """``qstat -x -f -F json`` of one job (finished ones included)."""
        out = self.run("qstat", "-x", "-f", "-F", "json", jobid, user="root").stdout
        jobs: dict[str, Any] = json.loads(out)["Jobs"]
        return next(iter(jobs.values()))

    def ours(self) -> dict[str, dict[str, Any]]:
        """Every job of this test (history included): those whose output goes to its
        directory, by id, as ``qstat -x -f -F json`` describes them."""
        out = self.run("qstat", "-x", "-f", "-F", "json", user="root").stdout
        jobs: dict[str, dict[str, Any]] = json.loads(out).get("Jobs", {})
        return {k: v for k, v in jobs.items() if str(self.workdir) in v.get("Output_Path", "")}

    def running(self) -> list[str]:
        """Ids of this test's jobs that run now (state R)."""
        return [k for k, v in self.ours().items() if v.get("job_state") == "R"]

    def unfinished_ours(self) -> list[str]:
        """Ids of this test's jobs not finished yet (any state but F)."""
        return [k for k, v in self.ours().items() if v.get("job_state") != "F"]

    def driver(self, run_path: Path, *args: str, **popen: Any) -> subprocess.Popen[str]:
        """Start ``drive.py`` as the test user (signalling the pid signals python itself)."""
        return subprocess.Popen(
            [self.exec, self.python, str(DRIVE), str(run_path), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=self.workdir,
            **popen,
        )  # fmt: skip

    def wait_until(self, predicate: Callable[[], object], seconds: float = 60.0) -> None:
        """Poll external state (the server's) until ``predicate()``; fail after ``seconds``."""
        deadline = time.monotonic() + seconds
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {seconds} s waiting for PBS")
            time.sleep(0.2)


@pytest.fixture
def pbs(_pbs_env: dict[str, str], request: pytest.FixtureRequest) -> Iterator[Server]:
    """The server, a fresh directory owned by its user; no job of a test outlives it."""
    user = pwd.getpwnam(_pbs_env["HYPERDEME_PBS_USER"])
    SCRATCH.mkdir(mode=0o755, exist_ok=True)
    workdir = SCRATCH / f"{request.node.name[:40]}-{uuid.uuid4().hex[:6]}"
    workdir.mkdir()
    os.chown(workdir, user.pw_uid, user.pw_gid)
    server = Server(_pbs_env, workdir)
    before = set(server.unfinished())
    yield server
    leftovers = sorted(set(server.unfinished()) - before)
    if leftovers:
        server.run("qdel", "-W", "force", *leftovers, user="root", check=False)
    shutil.rmtree(workdir, ignore_errors=True)
    assert not leftovers, f"a test left PBS jobs behind: {leftovers}"


def stop(process: subprocess.Popen[str]) -> str:
    """Kill a driver that is still running (a failed test), and return its output."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    if process.stdout is None or process.stdout.closed:  # already read to its end
        process.wait(timeout=30)
        return ""
    out, _ = process.communicate(timeout=30)
    return out


def finish(process: subprocess.Popen[str], seconds: float) -> str:
    """Wait for a driver to end by itself and return its output; kill it after ``seconds``."""
    try:
        out, _ = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the driver did not end within {seconds} s: {stop(process)[-3000:]}")
    return out
