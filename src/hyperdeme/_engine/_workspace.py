"""Per-trial directories: logs, parameters, and (with ``src_path``) a private work tree."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._core._errors import ConfigError
from .._core._nofollow import make_directory, refuse_link, write_new
from ._journal import JOURNAL_NAME

__all__ = ["Workspace", "check_experiment_path"]

#: files the engine writes in a trial directory: never linked to ``src_path``'s
#: namesakes (writing the log would truncate the user's file through the link)
TRIAL_FILES = frozenset({"stdout.log", "stderr.log", "params.json"})


@dataclass(frozen=True, slots=True)
class Workspace:
    """Where a run's files live: ``run_path/<experiment>/``.

    Each trial gets ``<trial id>/`` with ``stdout.log``, ``stderr.log`` and
    ``params.json``. With ``src_path``, that directory is also where the
    program runs: its top-level entries are symlinks to ``src_path``'s (except
    those three names), so the command works as if run from ``src_path``
    while output files land per trial. Without it, programs run in ``cwd``.

    Nothing is written through a symbolic link planted in the experiment
    directory (see :mod:`.._core._nofollow`): :meth:`create` refuses one in it
    before the run (a ``ConfigError``), and each trial's directory and files are
    made so that a link in their place fails that trial, naming the path.
    """

    root: Path  # run_path/<experiment>
    src_path: Path | None
    cwd: Path
    checkpoint_root: Path | None

    @classmethod
    def create(
        cls, run_path: str, experiment: str, src_path: str = "", checkpoint: str = ""
    ) -> Workspace:
        source = Path(src_path).absolute() if src_path else None
        if source is not None and not source.is_dir():
            # found now, not by every evaluation (as an error of the run's task group)
            raise ConfigError(
                f"src_path={src_path!r} is not a directory; give the directory holding the "
                "training program (its entries are linked into each trial's directory).",
                name="src_path",
                value=src_path,
            )
        root = Path(run_path or "run").absolute() / experiment
        check_experiment_path(root)
        root.parent.mkdir(parents=True, exist_ok=True)  # the user's choice: links followed
        make_directory(root)
        _refuse_links_in(root)
        checkpoint_root = Path(checkpoint).absolute() / experiment if checkpoint else None
        if checkpoint_root is not None and checkpoint_root.is_symlink():
            raise refuse_link(checkpoint_root)
        return cls(root=root, src_path=source, cwd=Path.cwd(), checkpoint_root=checkpoint_root)

    @property
    def journal_path(self) -> Path:
        return self.root / JOURNAL_NAME

    def trial_dir(self, trial_id: int) -> Path:
        return self.root / f"{trial_id:05d}"

    def prepare(self, trial_id: int, params: dict[str, Any]) -> tuple[Path, Path]:
        """Create the trial directory; return (its path, the program's cwd)."""
        directory = self.trial_dir(trial_id)
        make_directory(directory)
        write_new(directory / "params.json", (json.dumps(params, indent=1) + "\n").encode())
        if self.src_path is None:
            return directory, self.cwd
        for entry in os.scandir(self.src_path):
            if entry.name in TRIAL_FILES:
                continue
            link = directory / entry.name
            if not link.exists() and not link.is_symlink():
                link.symlink_to(entry.path)
        return directory, directory

    @property
    def checkpoint_base(self) -> Path:
        """Where checkpoints go: ``checkpoint/<experiment>``, else ``checkpoints/`` in the run."""
        return self.checkpoint_root or self.root / "checkpoints"

    def checkpoint_dir(self, trial_id: int) -> Path:
        base = self.checkpoint_base
        base.parent.mkdir(parents=True, exist_ok=True)
        make_directory(base)
        path = base / f"{trial_id:05d}"
        make_directory(path)
        return path


#: the longest path the engine makes under the experiment directory, with room to spare:
#: a 7-digit trial id's directory and an earlier attempt's log in it
LONGEST_INSIDE = "/0000000/stderr.attempt9999.log"


def check_experiment_path(root: Path) -> None:
    """A :class:`ConfigError` now, before any evaluation, when the experiment directory's
    name, or the longest path the run makes under it, is longer than the file system
    takes (``PC_NAME_MAX`` / ``PC_PATH_MAX`` of the nearest existing directory above it;
    lengths in bytes, as the kernel counts them). It was ENAMETOOLONG at run time."""
    existing = next((p for p in root.parents if p.is_dir()), Path("/"))
    name_max = _pathconf(existing, "PC_NAME_MAX", 255)
    path_max = _pathconf(existing, "PC_PATH_MAX", 4096)
    name = root.name.encode(errors="surrogateescape")
    if len(name) > name_max:
        raise ConfigError(
            f"the experiment name {root.name[:40]!r}... is {len(name)} bytes long; the file "
            f"system under {existing} takes names of at most {name_max} bytes "
            "(PC_NAME_MAX). Choose a shorter name.",
            name="name",
            value=root.name,
        )
    longest = len(str(root).encode(errors="surrogateescape")) + len(LONGEST_INSIDE)
    if longest >= path_max:
        raise ConfigError(
            f"the run's paths would be up to {longest} bytes long ({root}{LONGEST_INSIDE}); "
            f"the file system under {existing} takes paths of at most {path_max - 1} bytes "
            "(PC_PATH_MAX). Choose a shorter run_path or experiment name.",
            name="name",
            value=root.name,
        )


def _pathconf(directory: Path, setting: str, default: int) -> int:
    try:
        return os.pathconf(directory, setting)
    except (OSError, ValueError):  # not told: the usual Linux limit
        return default


def _refuse_links_in(root: Path) -> None:
    """A :class:`ConfigError` for the first symbolic link directly in the experiment
    directory: the engine writes every entry there (journal, lock, logs, trial and
    checkpoint directories), so a link among them can only be one planted."""
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.is_symlink():
                raise refuse_link(Path(entry.path))
