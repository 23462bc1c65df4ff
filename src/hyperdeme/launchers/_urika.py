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

import os
import shlex

from .._settings import Settings
from ._base import Exit, Job, Launcher
from ._process import DEFAULT_GRACE, run_process
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
class UrikaLauncher(Launcher):
    """Runs evaluations with Cray's ``run_training``; see the module docstring."""

    name = "urika"

    def __init__(self, settings: Settings, *, grace: float = DEFAULT_GRACE) -> None:
        self.settings = settings
        self.grace = grace

    @property
    def total_nodes(self) -> int | None:
        return self.settings.nodes or None

    async def run(self, job: Job) -> Exit:
        argv = run_training_argv(
            nodes=job.nodes,
            command=job.command,
            launch_args=self.settings.launch_args,
            urika_args=self.settings.urika_args,
        )
        returncode = await run_process(
            argv,
            cwd=job.cwd,
            env={**os.environ, **job.env},
            stdout=job.stdout,
            stderr=job.stderr,
            grace=self.grace,
        )
        return Exit(returncode)
