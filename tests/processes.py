"""Finding and reaping the test kernels' processes by the marker in their argv."""

from __future__ import annotations

import contextlib
import uuid

import psutil  # type: ignore[import-untyped,unused-ignore]


def new_marker() -> str:
    return f"hyperdeme-test-{uuid.uuid4().hex}"


def marked(marker: str) -> list[psutil.Process]:
    """Live processes whose argv mentions ``marker`` (zombies count as gone)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if any(marker in arg for arg in process.info["cmdline"] or ()):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def kill_marked(marker: str) -> int:
    """SIGKILL every process carrying ``marker``; how many there were."""
    processes = marked(marker)
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(processes, timeout=5)
    return len(processes)
