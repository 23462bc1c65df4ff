"""Which PBS this is, told from the real OpenPBS tools' own words (``qsub --version``,
``qstat --version``, ``pbsnodes --version``) and from a real ``qsub`` on ``PATH``."""

from __future__ import annotations

import os
import shutil

import pytest

from hyperdeme import LauncherOptions
from hyperdeme.launchers._detect import parse_qsub_version, qsub_flavour, resolve
from hyperdeme.launchers._pbs import PbsLauncher

from .conftest import Server

PBS_BIN = "/opt/pbs/bin"


@pytest.mark.parametrize("tool", ["qsub", "qstat", "pbsnodes"])
def test_the_real_tools_version_says_pbspro(pbs: Server, tool: str) -> None:
    answer = pbs.run(tool, "--version")
    assert parse_qsub_version(answer.stdout + answer.stderr) == "pbspro", answer


def test_a_real_qsub_on_path_is_detected_as_pbs(pbs: Server) -> None:
    path = f"{PBS_BIN}:{os.environ.get('PATH', '')}"
    qsub = shutil.which("qsub", path=path)
    assert qsub == f"{PBS_BIN}/qsub"
    assert qsub_flavour(qsub) == "pbspro"
    name, reason = resolve(
        options=LauncherOptions(nodes=1),
        environ={"PATH": path},
        which=lambda tool: None if tool == "sbatch" else shutil.which(tool, path=path),
    )
    assert name == "pbs", reason
    assert "PBS Pro/OpenPBS" in reason


async def test_the_launcher_asks_the_real_qsub_its_flavour(
    pbs: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{PBS_BIN}:{os.environ.get('PATH', '')}")
    monkeypatch.delenv("PBS_NODEFILE", raising=False)
    async with PbsLauncher(LauncherOptions()) as launcher:
        assert launcher.flavour == "pbspro"
