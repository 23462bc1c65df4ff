"""Files and directories in a run directory, made so that a planted symbolic link is
refused, never followed.

A run directory is often shared (a project's scratch space). A link planted
there (``00003/params.json -> ~/.bashrc``, or the trial directory ``00003 ->
~/``) would make the engine overwrite the file it points to. So every file the
engine writes under the run directory is opened here:

- its directory is opened with ``O_DIRECTORY | O_NOFOLLOW`` and the file
  relative to that descriptor (``dir_fd``) with ``O_NOFOLLOW``: neither the
  file nor the directory holding it can be a link, even one swapped in between
  a check and the open;
- a file written whole (``params.json``, a log) is first unlinked, then created
  with ``O_CREAT | O_EXCL``: what is written is a new file, never one a planted
  hard link shares with a file elsewhere (a symbolic link there is refused);
- a directory is made with ``mkdir`` and then opened the same way, so a link in
  its place is refused.

The refusal is a :class:`ConfigError` naming the path and where the link
points. Components above the experiment directory (the ``run_path`` the user
chose, which may well be a link to a scratch disk) are followed: they are the
user's choice. Written by hand because neither :mod:`pathlib` nor
:mod:`shutil` has a no-follow open relative to a directory descriptor.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from ._errors import ConfigError

__all__ = ["make_directory", "new_file", "open_nofollow", "refuse_link", "write_new"]

_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def refuse_link(path: Path) -> ConfigError:
    """The error for a link found at ``path``: it names the path and where it points."""
    try:
        target = f" (to {os.readlink(path)})"
    except OSError:
        target = ""
    return ConfigError(
        f"{path} is a symbolic link{target}; hyperdeme writes no file through a link in "
        "the run directory (a planted one would have it overwrite the file it points "
        "to). Remove the link, or choose another run_path or experiment name.",
        name="run_path",
        value=str(path),
    )


def _open_directory(path: Path) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
    except OSError as error:
        # a link gives ELOOP, or ENOTDIR (O_DIRECTORY is checked first on Linux)
        if error.errno in (errno.ELOOP, errno.ENOTDIR) and path.is_symlink():
            raise refuse_link(path) from None
        if error.errno == errno.ENOTDIR and path.exists():
            raise ConfigError(
                f"{path} is in the way: hyperdeme needs a directory there, and this is a file. "
                "Remove it, or choose another run_path or experiment name.",
                name="run_path",
                value=str(path),
            ) from None
        raise


def make_directory(path: Path) -> None:
    """Make ``path`` (its parent must exist); refuse a link or a file in its place."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(path)
    os.close(_open_directory(path))


def open_nofollow(path: Path, flags: int, *, new: bool = False) -> int:
    """``os.open(path, flags)``, refusing a link at ``path`` or in place of its directory;
    with ``new``, the file at ``path`` (not a link: refused) is unlinked first."""
    directory = _open_directory(path.parent)
    try:
        if new:
            with contextlib.suppress(FileNotFoundError):
                if stat.S_ISLNK(os.lstat(path.name, dir_fd=directory).st_mode):
                    raise refuse_link(path)  # said, not silently replaced
                os.unlink(path.name, dir_fd=directory)
        return os.open(path.name, flags | _NOFOLLOW, 0o644, dir_fd=directory)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise refuse_link(path) from None
        raise
    finally:
        os.close(directory)


def new_file(path: Path) -> int:
    """A new, empty ``path`` open for writing (whatever was there unlinked first)."""
    return open_nofollow(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, new=True)


def write_new(path: Path, data: bytes) -> None:
    """Write ``data`` as a new file at ``path``; on failure (a full disk) nothing is left
    there, and the error names the path."""
    fd = new_file(path)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
    except OSError as error:
        with contextlib.suppress(OSError):
            path.unlink()
        raise OSError(error.errno, error.strerror, str(path)) from None
