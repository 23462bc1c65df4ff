"""The experiments under a run path: the one scan ``list``, ``status`` and ``serve`` share.

A run path holds one directory per experiment (``<run_path>/<name>/trials.jsonl``);
an experiment directory given itself is its own one experiment. Links are not
followed (a run path is the user's, its entries are hyperdeme's).
"""

from __future__ import annotations

import os
from pathlib import Path

from .._engine._journal_read import JOURNAL_NAME

__all__ = ["experiment_dirs", "is_experiment"]


def is_experiment(directory: Path) -> bool:
    """True when ``directory`` holds a journal (a regular file, not a link)."""
    journal = directory / JOURNAL_NAME
    return journal.is_file() and not journal.is_symlink()


def experiment_dirs(run_path: str | os.PathLike[str]) -> list[Path]:
    """The experiment directories under ``run_path``, by name; ``[run_path]`` when it is
    one itself; empty when it holds none (or is not a directory)."""
    root = Path(run_path)
    if is_experiment(root):
        return [root]
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [
        Path(entry.path)
        for entry in entries
        if entry.is_dir(follow_symlinks=False) and is_experiment(Path(entry.path))
    ]
