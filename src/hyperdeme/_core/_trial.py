"""What flows through a run: a strategy's :class:`Candidate`, a finished :class:`Trial`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ._errors import ConfigError

__all__ = ["FAILURES", "Candidate", "CheckpointPlan", "Status", "Trial"]

_SLOT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class Status(StrEnum):
    """How one attempt, and so one trial, ended."""

    OK = "ok"
    FAILED = "failed"  # non-zero exit, or the launcher gave up
    NO_METRIC = "no_metric"  # exit 0, but a metric was missing or NaN
    TIMEOUT = "timeout"  # eval_timeout hit; the process group was killed
    STOPPED = "stopped"  # early stopping: its intermediate FoMs were hopeless; fom is the last
    CANCELLED = "cancelled"  # the run stopped (time budget, caller cancelled)
    #: the machine or the cluster, not the parameters, ended the attempt (EMFILE, a disk
    #: full while writing its logs, fork failing, the allocation ending): run again on
    #: resume, never counted as a failure of its parameters
    INTERRUPTED = "interrupted"


#: how a *failed* trial ended, wherever failures are counted (``Result.n_failed``, the
#: progress line, ``hyperdeme status``): not ok, not stopped early, not cancelled nor
#: interrupted (those are run again on resume)
FAILURES = frozenset({Status.FAILED, Status.NO_METRIC, Status.TIMEOUT})


@dataclass(frozen=True, slots=True)
class CheckpointPlan:
    """Which checkpoint a trial starts from and which one it writes (PBT, crayai's GA-PBT).

    ``slot`` names the checkpoint the trial writes: ``@checkpoint`` in the
    command points at a fresh scratch directory, committed atomically as
    ``slot`` when the trial succeeds (replacing what the slot held), discarded
    when it fails. ``start_from`` names a committed slot copied into the scratch
    directory before the program starts (None, or a slot never committed: the
    program starts from an empty directory). A slot is a plain name: letters,
    digits, ``_`` and ``-``, not starting with ``_`` or ``-``.
    """

    slot: str
    start_from: str | None = None

    def __post_init__(self) -> None:
        for name in ("slot", "start_from"):
            value = getattr(self, name)
            if value is None and name == "start_from":
                continue
            if not isinstance(value, str) or not _SLOT.fullmatch(value):
                raise ConfigError(
                    f"CheckpointPlan.{name} must be a plain name (letters, digits, '_' and '-', "
                    f"starting with a letter or digit), got {value!r}.",
                    name=name,
                    value=value,
                )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A point a strategy wants evaluated.

    ``params`` holds every gene, active or not (a genetic child keeps the genes
    of parameters its conditions switch off, so they can come back); the
    evaluator passes only the active ones. ``info`` carries strategy fields
    (``deme``, ``generation``, ``parents``) into the journal unchanged.
    ``checkpoint`` says which checkpoint the trial starts from and writes
    (see :class:`CheckpointPlan`); without one, ``@checkpoint`` is an empty
    directory of the trial's own.
    """

    params: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)
    checkpoint: CheckpointPlan | None = None


@dataclass(slots=True, repr=False)
class Trial:
    """One finished evaluation of a candidate, as written to the journal."""

    id: int
    params: dict[str, Any]  # active parameters only, flag -> typed value
    fom: float = math.inf
    metrics: dict[str, float] = field(default_factory=dict)
    status: Status = Status.OK
    attempts: int = 0
    returncode: int | None = None
    started: float = 0.0  # wall clock (time.time())
    ended: float = 0.0
    duration: float = 0.0  # seconds, monotonic
    info: dict[str, Any] = field(default_factory=dict)  # deme, generation, parents ...
    error: str = ""  # stderr tail or message of the last failed attempt
    command: str = ""
    nodes: int = 0
    #: intermediate FoMs seen: each line of the program's output carrying the metric is a step
    steps: int = 0
    #: intermediate FoMs the early-stopping rule keeps (ASHA: at its rungs), by step
    intermediate: dict[int, float] = field(default_factory=dict)
    #: with several objectives (``Evaluator(objectives=...)``): each one's value as the
    #: program reported it, in the evaluator's order; ``fom`` is the first one's. Empty
    #: for a single FoM (and in its journal record, which stays as it was).
    objectives: dict[str, float] = field(default_factory=dict)
    candidate: Candidate | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """Ran to its end and reported a finite FoM."""
        return self.status is Status.OK and math.isfinite(self.fom)

    @property
    def has_fom(self) -> bool:
        """Reported a finite FoM: ran to its end (``ok``) or was stopped early, with the
        last intermediate FoM as ``fom``. Strategies learn from these."""
        return self.status in (Status.OK, Status.STOPPED) and math.isfinite(self.fom)

    def __repr__(self) -> str:
        return (
            f"Trial(id={self.id}, status={self.status.value!r}, fom={self.fom!r}, "
            f"params={self.params!r})"
        )

    def to_json(self) -> dict[str, Any]:
        """The journal record: JSON-able, without the candidate's hidden genes."""
        record: dict[str, Any] = {
            "id": self.id,
            "params": self.params,
            "fom": _json_float(self.fom),
            "metrics": {k: _json_float(v) for k, v in self.metrics.items()},
            "status": self.status.value,
            "attempts": self.attempts,
            "returncode": self.returncode,
            "started": self.started,
            "ended": self.ended,
            "duration": self.duration,
            "info": self.info,
            "error": self.error,
            "command": self.command,
            "nodes": self.nodes,
            "steps": self.steps,
            "intermediate": {str(k): _json_float(v) for k, v in self.intermediate.items()},
        }
        if self.objectives:  # absent for a single FoM: such records stay as they were
            record["objectives"] = {k: _json_float(v) for k, v in self.objectives.items()}
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Trial:
        return cls(
            id=int(record["id"]),
            params=dict(record["params"]),
            fom=_float(record["fom"]),
            metrics={k: _float(v) for k, v in record.get("metrics", {}).items()},
            status=Status(record["status"]),
            attempts=int(record.get("attempts", 0)),
            returncode=record.get("returncode"),
            started=float(record.get("started", 0.0)),
            ended=float(record.get("ended", 0.0)),
            duration=float(record.get("duration", 0.0)),
            info=dict(record.get("info", {})),
            error=str(record.get("error", "")),
            command=str(record.get("command", "")),
            nodes=int(record.get("nodes", 0)),
            steps=int(record.get("steps", 0)),
            intermediate={int(k): _float(v) for k, v in record.get("intermediate", {}).items()},
            objectives={k: _float(v) for k, v in record.get("objectives", {}).items()},
        )


def _json_float(value: float) -> float | str:
    # JSON has no inf/nan; keep them readable and round-trippable.
    return value if math.isfinite(value) else repr(float(value))


def _float(value: float | str) -> float:
    return float(value)
