"""Launchers: where and how evaluations run.

The protocol (:class:`Launcher`, :class:`Job`, :class:`Exit`,
:class:`OutputSink`), the options a launcher is built from
(:class:`LauncherOptions`), the registry (:func:`register`, also
``hyperdeme.register_launcher``, and installed plug-ins: entry points of the
group ``hyperdeme.launchers``) and the detection of the workload manager
(:func:`resolve`). The backends (local, Slurm, PBS, Kubernetes, Urika) are
private modules, loaded when asked for.
"""

from .._core._public import publish
from ._base import Exit, Job, Launcher, OutputSink, launcher_files
from ._callable import CallableLauncher
from ._detect import resolve
from ._options import LauncherOptions
from ._process import run_process
from ._registry import check, create, is_known, register, registered
from ._tail import Tail

__all__ = [
    "CallableLauncher",
    "Exit",
    "Job",
    "Launcher",
    "LauncherOptions",
    "OutputSink",
    "Tail",
    "check",
    "create",
    "is_known",
    "launcher_files",
    "register",
    "registered",
    "resolve",
    "run_process",
]

publish(__name__, globals(), __all__)
del publish
