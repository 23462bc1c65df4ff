"""crayai's ``log_fn``: a human-readable log of the run, global plus one per deme."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import IO

from .._core._closing import Closing
from .._core._errors import ConfigError
from .._core._nofollow import open_nofollow
from .._core._trial import Trial

__all__ = ["HumanLog"]


class HumanLog(Closing):
    """One line per finished trial in ``<run dir>/<log_fn>``; genetic trials also
    in ``<stem>.deme<N><suffix>`` beside it, PBT lines name the member and step.
    Disabled when ``log_fn`` is empty."""

    def __init__(self, directory: Path, log_fn: str) -> None:
        self.path = directory / log_fn if log_fn else None
        self._files: dict[Path, IO[str]] = {}
        if self.path is not None:  # now: a link in its place is refused before the run
            try:
                self._file(self.path)
            except OSError as error:
                if error.errno != errno.ENAMETOOLONG:
                    raise
                raise ConfigError(
                    f"log_fn={log_fn[:40]!r}... is too long a file name for {directory} "
                    f"({len(log_fn.encode())} bytes; {error.strerror}).",
                    name="log_fn",
                    value=log_fn,
                ) from None

    def write(self, trial: Trial) -> None:
        if self.path is None:
            return
        line = (
            f"trial {trial.id} {trial.status.value} fom={trial.fom:.6g} "
            f"attempts={trial.attempts} duration={trial.duration:.2f}s "
            f"params={json.dumps(trial.params)}"
        )
        member = trial.info.get("member")
        if member is not None:
            exploited = trial.info.get("exploited_from")
            taken = f" from member {exploited['member']}" if exploited else ""
            line = f"member {member} step {trial.info.get('step', '?')}{taken} {line}"
        deme = trial.info.get("deme")
        if deme is not None:
            line = f"deme {deme} gen {trial.info.get('generation', '?')} {line}"
            name = f"{self.path.stem}.deme{deme}{self.path.suffix}"
            self._file(self.path.with_name(name)).write(line + "\n")
        self._file(self.path).write(line + "\n")

    def _file(self, path: Path) -> IO[str]:
        handle = self._files.get(path)
        if handle is None:
            # never through a link planted in the run directory (.._core._nofollow)
            fd = open_nofollow(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            handle = self._files[path] = os.fdopen(fd, "a", buffering=1)
        return handle

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
