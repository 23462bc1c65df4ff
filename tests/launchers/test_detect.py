"""Choosing the launcher: settings first, then the job we are in, then the tools on PATH.

Everything runs with a fake environment, a fake ``which`` and a fake qsub
probe, except the probe tests, which run small fake ``qsub`` scripts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperdeme import LauncherOptions
from hyperdeme.launchers._detect import (
    QsubFlavour,
    parse_qsub_version,
    qsub_flavour,
    resolve,
)

AUTO = LauncherOptions()
NODES = LauncherOptions(nodes=4)  # a login node: PATH tools matter only when nodes are asked for


def which_from(*tools: str) -> object:
    return lambda name: f"/usr/bin/{name}" if name in tools else None


def probe_says(flavour: QsubFlavour) -> object:
    def probe(path: str) -> QsubFlavour:
        assert path == "/usr/bin/qsub"
        return flavour

    return probe


def never_probed(path: str) -> QsubFlavour:
    raise AssertionError(f"{path} should not have been run")


def detect(
    options: LauncherOptions = AUTO,
    environ: dict[str, str] | None = None,
    tools: tuple[str, ...] = (),
    probe: object = never_probed,
    *,
    launcher: str = "auto",
    workload_manager: str = "auto",
) -> tuple[str, str]:
    return resolve(
        launcher=launcher,
        workload_manager=workload_manager,
        options=options,
        environ=environ or {},
        which=which_from(*tools),  # type: ignore[arg-type]
        probe=probe,  # type: ignore[arg-type]
    )


def test_nothing_found_means_local() -> None:
    name, reason = detect(NODES)
    assert name == "local"
    assert "no workload manager found" in reason


def test_tools_on_path_without_nodes_asked_for_mean_local() -> None:
    name, reason = detect(AUTO, tools=("sbatch", "qsub"))
    assert name == "local"
    assert "no nodes asked for" in reason
    assert "sbatch and qsub on PATH unused" in reason
    assert detect(LauncherOptions(alloc_jobid=12), tools=("sbatch",))[0] == "slurm"


@pytest.mark.parametrize("variable", ["SLURM_JOB_ID", "SLURM_JOBID"])
def test_inside_a_slurm_job(variable: str) -> None:
    assert detect(environ={variable: "123"}, tools=("qsub",)) == (
        "slurm", f"{variable}=123 is set (inside a Slurm job)",
    )  # fmt: skip


@pytest.mark.parametrize("variable", ["PBS_JOBID", "PBS_NODEFILE"])
def test_inside_a_pbs_job_even_with_sbatch_around(variable: str) -> None:
    name, reason = detect(environ={variable: "7.srv"}, tools=("sbatch",))
    assert name == "pbs"
    assert reason.startswith(f"{variable}=7.srv is set")


def test_sbatch_on_path_means_slurm() -> None:
    assert detect(NODES, tools=("sbatch", "qsub")) == (
        "slurm", "sbatch is on PATH (/usr/bin/sbatch)",
    )  # fmt: skip


@pytest.mark.parametrize(("flavour", "words"), [("pbspro", "PBS Pro"), ("torque", "Torque")])
def test_pbs_qsub_on_path_means_pbs(flavour: QsubFlavour, words: str) -> None:
    name, reason = detect(NODES, tools=("qsub",), probe=probe_says(flavour))
    assert name == "pbs"
    assert words in reason


@pytest.mark.parametrize(
    ("flavour", "words"),
    [("slurm", "Slurm's Torque wrapper"), ("sge", "Grid Engine"), ("unknown", "unrecognised")],
)
def test_other_qsubs_are_not_pbs(flavour: QsubFlavour, words: str) -> None:
    name, reason = detect(NODES, tools=("qsub",), probe=probe_says(flavour))
    assert name == "local"
    assert words in reason


def test_grid_engine_is_recognised_without_running_qsub() -> None:
    assert detect(NODES, {"SGE_ROOT": "/opt/sge"}, tools=("qsub",))[0] == "local"
    assert detect(NODES, tools=("qsub", "qconf"))[0] == "local"


def test_explicit_settings_win() -> None:
    inside_slurm = {"SLURM_JOB_ID": "1"}
    assert detect(AUTO, inside_slurm, workload_manager="pbs") == (
        "pbs", "workload_manager='pbs' was given",
    )  # fmt: skip
    # Kubernetes only when asked for
    assert detect(workload_manager="k8s")[0] == "k8s"
    # an explicit launcher overrides the workload manager; urika runs run_training
    assert detect(AUTO, inside_slurm, workload_manager="slurm", launcher="urika") == (
        "urika", "launcher='urika' was given",
    )  # fmt: skip
    assert detect(AUTO, inside_slurm, launcher="local")[0] == "local"


@pytest.mark.parametrize(
    ("text", "flavour"),
    [
        ("pbs_version = 2022.1.1\n", "pbspro"),
        ("pbs_version = 19.1.3\n", "pbspro"),
        ("Version: 6.1.3\nCommit: 1234\n", "torque"),
        ("version: 4.2.10\n", "torque"),
        ("SGE 8.1.9\nusage: qsub [options]\n", "sge"),
        ("Univa Grid Engine 8.6\n", "sge"),
        ("slurm 23.02.7\n", "slurm"),
        ("qsub: invalid option -- '-'\n", "unknown"),
    ],
)
def test_qsub_version_output(text: str, flavour: QsubFlavour) -> None:
    assert parse_qsub_version(text) == flavour


def fake_qsub(tmp_path: Path, body: str) -> str:
    path = tmp_path / "qsub"
    path.write_text(body)
    path.chmod(0o755)
    return str(path)


def test_probe_reads_wrapper_scripts_and_asks_the_rest(tmp_path: Path) -> None:
    wrapper = fake_qsub(tmp_path, "#!/usr/bin/perl\nuse Slurm qw(:constants);\nexit 1;\n")
    assert qsub_flavour(wrapper) == "slurm"
    pbs = fake_qsub(tmp_path, "#!/bin/sh\necho 'pbs_version = 2022.1.1'\n")
    assert qsub_flavour(pbs) == "pbspro"
    assert qsub_flavour(str(tmp_path / "missing")) == "unknown"


def test_probe_against_the_pbs_standin() -> None:
    """The stand-in PBS qsub (tests/standins/pbs) answers --version like PBS Pro."""
    standin = Path(__file__).parent.parent / "standins" / "pbs" / "qsub"
    assert qsub_flavour(str(standin)) == "pbspro"


def test_crayais_wlm_launcher_means_the_workload_manager() -> None:
    assert detect(launcher="wlm", workload_manager="pbs")[0] == "pbs"
    assert detect(environ={"SLURM_JOB_ID": "7"}, launcher="wlm")[0] == "slurm"


def test_a_registered_launcher_is_used_when_named() -> None:
    assert detect(launcher="mine") == ("mine", "launcher='mine' was given")
    assert detect(workload_manager="mine")[0] == "mine"
