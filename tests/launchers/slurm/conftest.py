"""Fixtures for the real Slurm clusters that ``scripts/slurm-up`` starts.

``scripts/test`` starts a single-node cluster (``.slurm/hyperdeme1``) and a
two-node one in network namespaces (``.slurm/hyperdeme2``) and exports
``HYPERDEME_SLURM1_ENV`` / ``HYPERDEME_SLURM2_ENV``: the env files the
clusters wrote. Without a cluster the tests are skipped with the reason,
except under CI, where a missing cluster fails the run.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import hyperdeme

REPO = Path(__file__).parents[3]


def _load(var: str, default: str) -> dict[str, str] | str:
    path = Path(os.environ.get(var, REPO / default))
    if not path.exists():
        return f"no Slurm cluster: {path} is missing (run scripts/slurm-up)"
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            env[key.strip()] = " ".join(shlex.split(value))
    conf = env.get("SLURM_CONF", "")
    probe = subprocess.run(
        ["sinfo", "-h", "-o", "%t"],
        env={**os.environ, "SLURM_CONF": conf},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        return f"Slurm cluster of {path} does not answer: {probe.stderr.strip()}"
    return env


def _cluster(var: str, default: str) -> dict[str, str]:
    loaded = _load(var, default)
    if isinstance(loaded, str):
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Slurm tests, but {loaded}")
        pytest.skip(loaded)
    return loaded


class Cluster:
    """A running test cluster: its environment and a few squeue/scontrol helpers."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.conf = env["SLURM_CONF"]
        self.nodes = env.get("HYPERDEME_SLURM_NODES", "").split()
        self.dir = Path(env.get("HYPERDEME_SLURM_DIR", Path(self.conf).parent))

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            env={**os.environ, "SLURM_CONF": self.conf},
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
        )

    async def arun(self, *argv: str) -> str:
        """Like :meth:`run`, without blocking the event loop."""
        result = await anyio.run_process(list(argv), env={**os.environ, "SLURM_CONF": self.conf})
        return result.stdout.decode()

    async def wait_for_step(self, marker: str) -> str:
        """Poll squeue (external state) until a step whose line contains ``marker`` runs."""
        while True:
            steps = [line for line in await self.asteps() if marker in line]
            if steps:
                return steps[0]
            await anyio.sleep(0.05)

    async def asteps(self) -> list[str]:
        return (await self.arun("squeue", "-h", "-s", "-o", "%i %j %N")).split("\n")[:-1]

    def jobs(self) -> list[str]:
        return self.run("squeue", "-h", "-o", "%i %j").stdout.split("\n")[:-1]

    def steps(self) -> list[str]:
        return self.run("squeue", "-h", "-s", "-o", "%i %j").stdout.split("\n")[:-1]

    def allocate(self, nodes: int) -> int:
        out = self.run(
            "salloc",
            "--no-shell",
            "--no-kill",
            "--exclusive",
            f"-N{nodes}",
            "-t",
            "10",
            "--job-name=test-alloc",
        )
        return int(out.stderr.split("Granted job allocation")[1].split()[0])

    def release(self, jobid: int) -> None:
        self.run("scancel", str(jobid), check=False)
        self.wait_until(lambda: str(jobid) not in " ".join(self.jobs()))

    def wait_until(self, predicate: object, seconds: float = 30.0) -> None:
        """Poll an external condition (Slurm's state) until true; fail after ``seconds``."""
        deadline = time.monotonic() + seconds
        while not predicate():  # type: ignore[operator]
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {seconds} s waiting for Slurm")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def _slurm1_env() -> dict[str, str]:
    return _cluster("HYPERDEME_SLURM1_ENV", ".slurm/hyperdeme1/env")


@pytest.fixture(scope="session")
def _slurm2_env() -> dict[str, str]:
    return _cluster("HYPERDEME_SLURM2_ENV", ".slurm/hyperdeme2/env")


@pytest.fixture
def slurm(_slurm1_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """The single-node cluster; no job of a test outlives it."""
    yield from _use(Cluster(_slurm1_env), monkeypatch)


@pytest.fixture
def slurm2(_slurm2_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """The two-node cluster (n1, n2 in their own network namespaces)."""
    yield from _use(Cluster(_slurm2_env), monkeypatch)


def _use(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    monkeypatch.setenv("SLURM_CONF", cluster.conf)
    for key in list(os.environ):
        if key.startswith(("SLURM_JOB", "SLURM_STEP", "SLURM_NNODES", "SLURM_NTASKS")):
            monkeypatch.delenv(key)
    before = set(cluster.jobs())
    yield cluster
    leftovers = set(cluster.jobs()) - before
    for line in leftovers:
        cluster.run("scancel", line.split()[0], check=False)
    assert not leftovers, f"a test left Slurm jobs behind: {sorted(leftovers)}"


KERNEL = Path(__file__).with_name("kernel.py")


def slurm_evaluator(tmp_path: Path, kernel_args: str = "", **settings: Any) -> hyperdeme.Evaluator:
    """An evaluator running the test kernel (``kernel.py <kernel_args>``) through Slurm."""
    settings.setdefault("workload_manager", "slurm")
    settings.setdefault("src_path", str(source_dir(tmp_path)))
    command = f"{sys.executable} {KERNEL} {kernel_args}".strip()
    return hyperdeme.Evaluator(command, run_path=str(tmp_path), **settings)


def source_dir(tmp_path: Path) -> Path:
    """An empty ``src_path``: each trial runs in its own directory."""
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    return source
