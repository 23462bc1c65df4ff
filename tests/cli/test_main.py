"""The command's entry points, help and exit codes; `import hyperdeme` stays free of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hyperdeme

from .conftest import invoke


def test_python_m_hyperdeme_and_the_console_script_show_the_help() -> None:
    script = Path(sys.executable).with_name("hyperdeme")
    for argv in ([sys.executable, "-m", "hyperdeme", "--help"], [str(script), "--help"]):
        shown = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        for command in ("run", "status", "best", "export", "report"):
            assert f"\n    {command} " in shown
        assert "exit codes: 0 success, 1 the run failed, 2 usage or configuration error" in shown


def test_run_help_shows_the_experiment_file() -> None:
    outcome = invoke("run", "--help")
    assert outcome.code == 0
    assert '[params."--lr"]' in outcome.out
    assert "--dry-run" in outcome.out


def test_usage_errors_exit_2() -> None:
    assert invoke().code == 2
    assert invoke("hunt").code == 2
    assert invoke("status").code == 2


def test_version() -> None:
    outcome = invoke("--version")
    assert (outcome.code, outcome.out.strip()) == (0, hyperdeme.__version__)


def test_import_hyperdeme_needs_neither_the_command_nor_rich_nor_matplotlib() -> None:
    # (structlog imports rich when it is installed; hyperdeme itself must not need it)
    code = (
        "import sys\n"
        "sys.modules.update(rich=None, matplotlib=None)\n"
        "import hyperdeme\n"
        "print(sorted(m for m in sys.modules if m.startswith('hyperdeme._cli')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
