"""Cray Urika-XC/GX: each evaluation through ``run_training``.

``run_training`` starts a (distributed) training program on nodes of the
current allocation: ``run_training -n <nodes> <launch_args> /bin/sh -c <cmd>``.
The command goes through ``/bin/sh -c`` as one word so the evaluation's
shell syntax (quotes, ``&&``, redirections) means what it means locally.
Stopping it: like the local launcher, SIGTERM to ``run_training``'s process
group, ``grace`` seconds, SIGKILL; ``run_training`` tears down the ranks it
started when it is terminated.
"""

from __future__ import annotations

import shlex
import shutil
from typing import Self

from .._core._errors import LauncherError
from ._base import Job
from ._local import LocalLauncher
from ._registry import register

__all__ = ["UrikaLauncher", "run_training_argv"]


def run_training_argv(
    *, nodes: int, command: str, launch_args: str = "", urika_args: str = ""
) -> list[str]:
    """``run_training`` on ``nodes`` nodes running ``command`` through ``sh -c``;
    crayai's ``urika_args`` come first, then ``launch_args``."""
    return [
        "run_training", "-n", str(max(1, nodes)), *shlex.split(urika_args),
        *shlex.split(launch_args), "/bin/sh", "-c", command,
    ]  # fmt: skip


@register("urika")
class UrikaLauncher(LocalLauncher):
    """Runs evaluations with Cray's ``run_training`` from this machine (the local
    launcher with another command line); see the module docstring."""

    @property
    def total_nodes(self) -> int | None:
        return self.options.nodes or None

    async def __aenter__(self) -> Self:
        if shutil.which("run_training") is None:
            raise LauncherError(
                "launcher='urika' runs each evaluation through Cray's run_training, which is "
                "not on PATH here; load the Urika module (module load analytics) or run on a "
                "Urika system, or choose another launcher.",
                command="run_training",
                returncode=127,
            )
        return self

    def argv(self, job: Job) -> list[str]:
        return run_training_argv(
            nodes=job.nodes,
            command=job.command,
            launch_args=self.options.launch_args,
            urika_args=self.options.urika_args,
        )
