"""Checking continuation from what the training programs themselves recorded.

The example (``examples/pbt/train.py``) and ``kernels/checkpointer.py`` print
the history they loaded from their checkpoint (``loaded: <json>``) and the one
they saved (``saved: <json>``); the tests compare those, not hyperdeme's
bookkeeping.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hyperdeme import Trial


def recorded(run_dir: Path, trial: Trial, what: str, log: str = "stdout.log") -> Any:
    """The history the program of ``trial`` printed as ``loaded:`` or ``saved:``."""
    for line in (run_dir / f"{trial.id:05d}" / log).read_text().splitlines():
        if line.startswith(f"{what}: "):
            return json.loads(line[len(what) + 2 :])
    raise AssertionError(f"trial {trial.id} printed no {what!r} line")


def assert_continuations(run_dir: Path, trials: list[Trial]) -> None:
    """Each program loaded exactly the history that the trial it continued had saved."""
    by_id = {trial.id: trial for trial in trials}
    for trial in trials:
        source = trial.info["checkpoint_from"]
        loaded = recorded(run_dir, trial, "loaded")
        expected = [] if source is None else recorded(run_dir, by_id[source], "saved")
        assert loaded == expected, trial.id
