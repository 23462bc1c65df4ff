"""Where a PBS evaluation's script, output and exit status go, in ``<cwd>/.hyperdeme/pbs/``.

Both ways of running an evaluation use them: a ``pbsdsh`` task inside the driver's
job and a batch job of its own (:mod:`._pbs`, :mod:`._pbs_batch`). The directory
must be on a file system shared with the execution hosts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import anyio

from ._base import Job, OutputSink, launcher_files
from ._follow import FileFollower

__all__ = ["JobFiles", "copy_if_any", "read_status"]


@dataclass(frozen=True, slots=True)
class JobFiles:
    """Where an evaluation's script, output and exit status go."""

    directory: Path
    label: str

    @classmethod
    def of(cls, job: Job) -> JobFiles:
        base = job.name or f"trial-{job.trial_id}"
        label = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{base}.{job.attempt}")
        return cls(launcher_files(job, "pbs"), label)

    async def prepare(self) -> None:
        """Create the directory; remove what an earlier run with this label left."""
        await anyio.Path(self.directory).mkdir(parents=True, exist_ok=True)
        for stale in (self.stdout, self.stderr, self.status, self.pbs_stdout, self.pbs_stderr):
            await anyio.Path(stale).unlink(missing_ok=True)

    @property
    def script(self) -> Path:
        return self.directory / f"{self.label}.pbs"

    @property
    def stdout(self) -> Path:
        return self.directory / f"{self.label}.out"

    @property
    def stderr(self) -> Path:
        return self.directory / f"{self.label}.err"

    @property
    def status(self) -> Path:
        return self.directory / f"{self.label}.status"

    @property
    def pbs_stdout(self) -> Path:
        """PBS's own output stream of a batch job (``qsub -o``), staged out at its end."""
        return self.directory / f"{self.label}.pbs.out"

    @property
    def pbs_stderr(self) -> Path:
        """PBS's own error stream of a batch job (``qsub -e``), staged out at its end."""
        return self.directory / f"{self.label}.pbs.err"


async def copy_if_any(path: Path, sink: OutputSink) -> None:
    """Copy a file that may not exist (nothing was staged out, or PBS kept it elsewhere)."""
    await FileFollower(path, sink).poll()


async def read_status(path: Path) -> int | None:
    try:
        return int((await anyio.Path(path).read_text()).strip())
    except (OSError, ValueError):
        return None
