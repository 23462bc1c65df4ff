"""Which launcher runs the evaluations: the settings, else what this machine offers.

:func:`resolve` returns ``(launcher name, reason)``; the caller shows both
(``launcher.detected``, printed with ``verbose=True``). The rules, first match
wins:

1. ``launcher`` other than ``"auto"`` (or crayai's ``"wlm"``, which means the
   same) is used as given (``"urika"`` runs each evaluation through Cray's
   ``run_training``; a name registered with ``register_launcher``, or an
   installed plug-in's, runs yours).
2. ``workload_manager`` other than ``"auto"`` is used as given. Kubernetes is
   never guessed: it runs only when asked for (``"k8s"``).
3. Inside a job: ``SLURM_JOB_ID`` (or the legacy ``SLURM_JOBID``) means Slurm;
   ``PBS_JOBID`` or ``PBS_NODEFILE`` means PBS. The environment of the job we
   are in beats the tools on ``PATH`` (a site may install both).
4. On a login node, when nodes were asked for (``nodes`` or ``alloc_jobid``
   set): ``sbatch`` on ``PATH`` means Slurm; a ``qsub`` on ``PATH`` means PBS
   only if it *is* PBS (see :func:`qsub_flavour`). Without nodes to ask for
   there is nothing to submit to, so a laptop or login node that merely has
   the tools installed runs the evaluations itself.
5. Otherwise the evaluations run on this machine (``"local"``).

Telling the many ``qsub`` programs apart, cheaply:

* Grid Engine (SGE, OGE, UGE): ``SGE_ROOT`` is set or ``qconf`` is on ``PATH``
  (checked before running anything).
* Slurm's Torque compatibility wrapper (``slurm-torque`` package) is a Perl
  script: its first 4 KiB mention ``slurm``.
* Otherwise ``qsub --version`` (2 s at most): PBS Pro and OpenPBS print
  ``pbs_version = 2022.1.1``; Torque prints ``Version: 6.1.3``; Grid Engine
  answers with its name ("SGE 8.1.9", "Grid Engine"). Anything else is not
  trusted to be PBS.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from typing import Literal

from ._options import LauncherOptions

__all__ = ["DETECT", "QsubFlavour", "parse_qsub_version", "qsub_flavour", "resolve"]

QsubFlavour = Literal["pbspro", "torque", "slurm", "sge", "unknown"]
Which = Callable[[str], str | None]
Probe = Callable[[str], QsubFlavour]

#: the ``launcher=`` values that mean "detect it" ("wlm": crayai's "auto")
DETECT = ("auto", "wlm")

_PBSPRO = re.compile(r"^\s*pbs_version\s*=\s*\S", re.MULTILINE | re.IGNORECASE)
_TORQUE = re.compile(r"^\s*version:\s*\d", re.MULTILINE | re.IGNORECASE)
_SGE = re.compile(r"\bSGE\b|grid ?engine|\bUGE\b|\bOGS\b", re.IGNORECASE)
_PROBE_SECONDS = 2.0
_FLAVOUR_NAMES = {"pbspro": "PBS Pro/OpenPBS", "torque": "Torque"}


def resolve(
    *,
    launcher: str = "auto",
    workload_manager: str = "auto",
    options: LauncherOptions | None = None,
    environ: Mapping[str, str] = os.environ,
    which: Which = shutil.which,
    probe: Probe | None = None,
) -> tuple[str, str]:
    """The launcher to use here, and why (see the module docstring).

    Pure given ``environ``, ``which`` and ``probe`` (which tells what a ``qsub``
    executable is; the default runs ``qsub --version``).
    """
    if launcher not in DETECT:
        return launcher, f"launcher={launcher!r} was given"
    if workload_manager != "auto":
        return workload_manager, f"workload_manager={workload_manager!r} was given"
    options = options or LauncherOptions()
    inside = _inside_a_job(environ)
    if inside is not None:
        return inside
    if not (options.nodes or options.alloc_jobid):
        found = [tool for tool in ("sbatch", "qsub") if which(tool)]
        unused = f"; {' and '.join(found)} on PATH unused" if found else ""
        return "local", (
            "not inside a Slurm or PBS job and no nodes asked for (nodes=0)"
            f"{unused}: evaluations run on this machine"
        )
    return _on_path(environ, which, probe)


def _inside_a_job(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """Slurm or PBS when the environment says this runs inside one of their jobs."""
    for variable in ("SLURM_JOB_ID", "SLURM_JOBID"):
        if environ.get(variable):
            return "slurm", f"{variable}={environ[variable]} is set (inside a Slurm job)"
    for variable in ("PBS_JOBID", "PBS_NODEFILE"):
        if environ.get(variable):
            return "pbs", f"{variable}={environ[variable]} is set (inside a PBS job)"
    return None


def _on_path(environ: Mapping[str, str], which: Which, probe: Probe | None) -> tuple[str, str]:
    """Slurm if sbatch is on PATH, else PBS if its qsub is, else local (and why)."""
    sbatch = which("sbatch")
    if sbatch:
        return "slurm", f"sbatch is on PATH ({sbatch})"
    qsub = which("qsub")
    ignored = ""
    if qsub:
        if environ.get("SGE_ROOT") or which("qconf"):
            flavour: QsubFlavour = "sge"
        else:
            flavour = (probe or qsub_flavour)(qsub)
        if flavour in _FLAVOUR_NAMES:
            return "pbs", f"qsub on PATH is {_FLAVOUR_NAMES[flavour]} ({qsub})"
        ignored = f"; the qsub on PATH ({qsub}) is {_describe(flavour)}, not PBS's"
    return "local", (
        "no workload manager found (no SLURM_JOB_ID or PBS_JOBID, no sbatch or PBS qsub "
        f"on PATH){ignored}: evaluations run on this machine"
    )


def qsub_flavour(path: str) -> QsubFlavour:
    """What the ``qsub`` at ``path`` is: a wrapper script, else ask ``--version``."""
    try:
        with open(path, "rb") as file:
            head = file.read(4096)
    except OSError:
        return "unknown"
    if head.startswith(b"#!") and b"slurm" in head.lower():
        return "slurm"
    try:
        completed = subprocess.run(
            [path, "--version"],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=_PROBE_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (completed.stdout + completed.stderr).decode(errors="replace")
    return parse_qsub_version(text)


def parse_qsub_version(text: str) -> QsubFlavour:
    """The flavour named by ``qsub --version``'s output (see the module docstring)."""
    if _PBSPRO.search(text):
        return "pbspro"
    if "slurm" in text.lower():
        return "slurm"
    if _SGE.search(text):
        return "sge"
    if _TORQUE.search(text):
        return "torque"
    return "unknown"


def _describe(flavour: QsubFlavour) -> str:
    return {
        "slurm": "Slurm's Torque wrapper",
        "sge": "Grid Engine's",
        "unknown": "an unrecognised one",
    }.get(flavour, flavour)
