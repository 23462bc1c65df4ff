"""What a journal says besides its trials, for the report's plots: the search space the
experiment was started with, and the pauses between one driver's stop and the next's start.

The space is the fingerprint's (the journal's first record, ``experiment``): each
parameter's full range, whether it is searched on a log scale, every value of a list.
A journal without one (hyperdeme 0.1, or a bare file of trial records) has no space:
the plots then scale each axis to the values the trials had, and say so.

A pause is found from the ``resumed`` record a driver writes when it takes an
experiment over: the run stopped when the last trial record before it ended (the
trials a stop cancels are recorded as it stops) and went on when the first trial
after it started. No record carries the clock of the stop itself, so this is the
span no trial ran in, which is what the plots mark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._engine_internals import read_records

__all__ = ["History", "Pause", "SpaceAxis", "read_history"]


@dataclass(frozen=True, slots=True)
class SpaceAxis:
    """One parameter as the search space declares it: a range or a list of values."""

    flag: str
    #: a range's bounds (None for a list of values)
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    #: a list's values, in the order of the space (empty for a range)
    values: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Pause:
    """The time between a driver's stop and the next driver's first trial."""

    #: wall clock (``time.time()``) when the last trial before the resume ended
    stopped: float
    #: wall clock when the first trial after the resume started
    resumed: float
    #: how many trials had their final record before the resume
    finished_before: int


@dataclass(frozen=True, slots=True)
class History:
    """The search space (empty: not recorded) and the pauses, in journal order."""

    space: list[SpaceAxis] = field(default_factory=list)
    pauses: list[Pause] = field(default_factory=list)


def read_history(journal: Path) -> History:
    """Read ``journal`` (a run directory or its ``trials.jsonl``) for its space and pauses."""
    space: list[SpaceAxis] = []
    last_record: dict[int, int] = {}  # trial id -> index of its latest trial record
    ended_before = -math.inf
    open_pause: tuple[float, int] | None = None  # (stopped, index of the resumed record)
    found: list[tuple[float, float, int]] = []  # (stopped, resumed, index of the record)
    for index, record in enumerate(read_records(journal)):
        kind = record.get("type")
        if kind == "experiment" and index == 0:
            space = _space(record.get("fingerprint"))
        elif kind == "resumed" and open_pause is None and math.isfinite(ended_before):
            open_pause = (ended_before, index)
        elif kind == "trial":
            if open_pause is not None:
                stopped, at = open_pause
                found.append((stopped, max(stopped, _number(record.get("started"))), at))
                open_pause = None
            last_record[record["id"]] = index
            ended_before = max(ended_before, _number(record.get("ended")))
    # counted at the end: a trial the stop cancelled and the resume ran again finished after
    pauses = [
        Pause(stopped, resumed, sum(1 for last in last_record.values() if last < at))
        for stopped, resumed, at in found
    ]
    return History(space, pauses)


def _space(fingerprint: Any) -> list[SpaceAxis]:
    """The parameters of a fingerprint's space; whatever is not as hyperdeme writes it is
    left out (the plots then fall back to the values seen)."""
    space = fingerprint.get("space") if isinstance(fingerprint, dict) else None
    parameters = space.get("parameters") if isinstance(space, dict) else None
    axes: list[SpaceAxis] = []
    for item in parameters if isinstance(parameters, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("flag"), str):
            continue
        values = item.get("values")
        low, high = _number(item.get("low"), math.nan), _number(item.get("high"), math.nan)
        if isinstance(values, list) and values:
            axes.append(SpaceAxis(item["flag"], values=tuple(values)))
        elif low < high:  # neither is NaN
            log = item.get("log") is True and low > 0
            integer = item.get("integer") is True
            axes.append(SpaceAxis(item["flag"], low, high, log, integer))
    return axes


def _number(value: Any, otherwise: float = 0.0) -> float:
    """``value`` if it is a finite number (not a bool), else ``otherwise``."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if number and math.isfinite(value) else otherwise
