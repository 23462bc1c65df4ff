"""Fixtures of the fault tests: a marker for the kernels' processes, a tiny tmpfs.

The tmpfs (disk-full tests) needs root, as ``mount`` does: CI runs as root; a
developer without root sees those tests skipped, and under ``CI`` they fail.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from processes import kill_marked, new_marker

from .support import require_root


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[str]:
    """The text every kernel process of the test carries; leftovers are killed after
    the test (which has asserted on them first)."""
    marker = new_marker()
    yield marker
    kill_marked(marker)
    kill_marked(str(tmp_path))  # a watchdog whose record lives under tmp_path


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """An empty src_path: each trial then runs in its own directory (named by its id)."""
    directory = tmp_path / "src"
    directory.mkdir()
    return directory


Mount = Callable[[Path, int], Path]


@pytest.fixture
def tmpfs() -> Iterator[Mount]:
    """``tmpfs(directory, size)`` mounts a tmpfs of ``size`` bytes there; unmounted after."""
    require_root("a small file system to fill is a tmpfs, and mounting one needs root")
    mounted: list[Path] = []

    def mount(directory: Path, size: int) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(directory)],
            check=True,
            capture_output=True,
        )
        mounted.append(directory)
        return directory

    yield mount
    for directory in reversed(mounted):
        # lazily if something still holds it open: the mount point must not outlive the test
        if subprocess.run(["umount", str(directory)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(directory)], check=True)
