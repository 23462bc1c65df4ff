"""Debian's headless Chromium, for the tests that look at pages (the report, the
dashboard, the documentation site): found or the test skipped (failed under CI, which
must run it), started with one set of flags, a page's DOM dumped after its scripts ran."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = ["chromium", "dump_dom", "headless"]


def chromium() -> str:
    """The browser's path; skips the test without it, fails it under CI."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test, but chromium is not installed")
        pytest.skip("chromium is not installed (scripts/test installs it as root)")
    return found


def headless(profile: Path) -> list[str]:
    """The command line of a headless browser with its own profile and no network of its own
    (no updates, sync or QUIC); the caller adds what it asks of the browser."""
    return [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]


def dump_dom(uri: str, profile: Path, *flags: str) -> str:
    """The DOM of the page at ``uri`` once its scripts ran (``--dump-dom``)."""
    return subprocess.run(
        [*headless(profile), *flags, "--dump-dom", uri],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
