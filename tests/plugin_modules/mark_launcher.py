"""A launcher plug-in: runs each evaluation on this machine and leaves a mark.

The mark, a file ``<marks>/<trial id>-<attempt>`` holding the command, shows
that the trial ran through the plug-in. ``marks`` is its one
``launcher_options`` key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import hyperdeme
from hyperdeme.launchers import run_process


@dataclass(frozen=True)
class MarkOptions:
    """The keys of ``launcher_options`` the launcher accepts."""

    marks: str


class MarkLauncher(hyperdeme.Launcher):
    """``/bin/sh -c <command>``, after writing the mark."""

    launcher_options = MarkOptions

    def __init__(self, options: hyperdeme.LauncherOptions) -> None:
        settings: MarkOptions = self.read_extra(options)
        self.marks = Path(settings.marks)

    async def run(self, job: hyperdeme.Job) -> hyperdeme.Exit:
        (self.marks / f"{job.trial_id}-{job.attempt}").write_text(job.command)
        returncode = await run_process(
            ["/bin/sh", "-c", job.command],
            cwd=job.cwd,
            env=job.environ(),
            stdout=job.stdout,
            stderr=job.stderr,
        )
        return hyperdeme.Exit(returncode)


#: what an entry point must not name: not a Launcher
NOT_A_LAUNCHER = 42
