"""Launchers: where and how evaluations run (see ``_base`` for the protocol)."""

from ._base import Exit, Job, Launcher, OutputSink
from ._callable import CallableLauncher
from ._registry import create, register, registered

__all__ = [
    "CallableLauncher",
    "Exit",
    "Job",
    "Launcher",
    "OutputSink",
    "create",
    "register",
    "registered",
]
