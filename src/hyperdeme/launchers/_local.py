"""Run each evaluation as a shell command on this machine."""

from __future__ import annotations

from ._base import Exit, Job, Launcher
from ._options import LauncherOptions
from ._process import run_process
from ._registry import register

__all__ = ["LocalLauncher"]


@register("local")
class LocalLauncher(Launcher):
    """``/bin/sh -c <command>`` in a new process session per evaluation.

    Stopping it: SIGTERM to the process group, ``grace`` seconds, SIGKILL.
    """

    def __init__(
        self, options: LauncherOptions | None = None, *, grace: float | None = None
    ) -> None:
        self.options = options or LauncherOptions()
        self.grace = self.options.grace_period if grace is None else grace

    def argv(self, job: Job) -> list[str]:
        """The command line that runs ``job`` (subclasses wrap it in a launcher tool)."""
        return ["/bin/sh", "-c", job.command]

    async def run(self, job: Job) -> Exit:
        returncode = await run_process(
            self.argv(job),
            cwd=job.cwd,
            env=job.environ(),
            stdout=job.stdout,
            stderr=job.stderr,
            grace=self.grace,
        )
        return Exit(returncode)
