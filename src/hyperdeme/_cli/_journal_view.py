"""A run directory as the command sees it: finished trials and the ids still running.

Every journal line is a JSON object. A finished trial's line is what
``Trial.to_json()`` writes, with or without ``"type": "trial"`` (and a
``"schema"``); a ``"type": "started"`` line (``id``, ``params``, ``started``)
marks a trial that began. A trial with a started line and no finished line is
running. Lines of another type are ignored, and so is a line being written
(no newline yet) or torn by a crash: the journal is read while the run goes.

Journals written before started lines existed have none; there a trial
directory (``<run dir>/<digits>/params.json``, made when a trial starts) without
a finished line stands for a started trial. A run killed with SIGKILL leaves
such trials behind; they look running until the journal can tell a live run
from a dead one (issue #9).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hyperdeme

from ._errors import UsageProblem

__all__ = ["JOURNAL_NAME", "RunView", "read_run"]

JOURNAL_NAME = "trials.jsonl"


@dataclass(frozen=True, slots=True)
class RunView:
    """What a run directory holds right now."""

    directory: Path
    #: finished trials in journal order (a later record of an id replaces an earlier one)
    trials: list[hyperdeme.Trial]
    #: ids of trials started but not finished, ascending
    running: list[int]

    @property
    def best(self) -> hyperdeme.Trial | None:
        """The successful trial with the lowest FoM (the earliest among equals)."""
        best: hyperdeme.Trial | None = None
        for trial in self.trials:
            if trial.ok and (best is None or trial.fom < best.fom):
                best = trial
        return best

    @property
    def failed(self) -> list[hyperdeme.Trial]:
        """Trials that ended without a result, cancelled and early-stopped ones excepted."""
        fine = (hyperdeme.Status.CANCELLED, hyperdeme.Status.STOPPED)
        return [t for t in self.trials if not t.ok and t.status not in fine]


def read_run(directory: str | os.PathLike[str]) -> RunView:
    """Read ``directory/trials.jsonl`` (or the journal file itself) into a :class:`RunView`."""
    path = Path(directory)
    journal = path if path.is_file() else path / JOURNAL_NAME
    if not journal.is_file():
        raise UsageProblem(
            f"{path} holds no {JOURNAL_NAME}; give a run directory, such as "
            "run/<experiment> (the directory `hyperdeme run` names when it starts)."
        )
    finished: dict[int, hyperdeme.Trial] = {}
    started: set[int] = set()
    with journal.open("rb") as handle:
        for line in handle:
            record = _record(line)
            if record is None:
                continue
            kind = record.get("type", "trial")
            try:
                if kind == "trial":
                    trial = hyperdeme.Trial.from_json(record)
                    finished.pop(trial.id, None)  # keep journal order of the latest record
                    finished[trial.id] = trial
                elif kind == "started":
                    started.add(int(record["id"]))
            except (KeyError, TypeError, ValueError) as error:
                raise UsageProblem(
                    f"{journal}: a {kind!r} record is malformed ({error!r}): {line[:200]!r}"
                ) from None
    if not started:
        started = _trial_directories(journal.parent)
    return RunView(journal.parent, list(finished.values()), sorted(started - finished.keys()))


def _record(line: bytes) -> dict[str, Any] | None:
    """The JSON object of one complete line; None for a partial, torn or non-object line."""
    if not line.endswith(b"\n"):
        return None  # being written right now, or torn by a crash
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _trial_directories(run_dir: Path) -> set[int]:
    """Ids of the trial directories (journals without started lines; see the module doc)."""
    ids: set[int] = set()
    for entry in os.scandir(run_dir):
        if entry.name.isdigit() and os.path.exists(os.path.join(entry.path, "params.json")):
            ids.add(int(entry.name))
    return ids
