"""``hyperdeme export --csv``: one row per finished trial, header first, for pandas.

Columns: ``id``, ``status``, ``fom``, then with several objectives each one
(``objective.<name>``, empty for a trial without it), each metric (``metric.<name>``), each
parameter (its flag; empty where inactive), then ``attempts``, ``returncode``,
``deme``, and the timings ``started``, ``ended`` (Unix time) and ``duration``
(seconds). Metrics and parameters appear in the order first seen.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from typing import Any, TextIO

import hyperdeme

from ._engine_internals import format_value

__all__ = ["write_csv"]

LEADING = ("id", "status", "fom")
TRAILING = ("attempts", "returncode", "deme", "started", "ended", "duration")


def write_csv(trials: Iterable[hyperdeme.Trial], out: TextIO) -> int:
    """Write ``trials`` as CSV to ``out``; return the number of rows."""
    trials = list(trials)
    objectives = _ordered(name for t in trials for name in t.objectives)
    metrics = _ordered(name for t in trials for name in t.metrics)
    flags = _ordered(flag for t in trials for flag in t.params)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            *LEADING,
            *(f"objective.{o}" for o in objectives),
            *(f"metric.{m}" for m in metrics),
            *flags,
            *TRAILING,
        ]
    )
    for t in trials:
        writer.writerow(_row(t, objectives, metrics, flags))
    return len(trials)


def _row(
    t: hyperdeme.Trial, objectives: list[str], metrics: list[str], flags: list[str]
) -> list[object]:
    return [
        t.id,
        t.status.value,
        _number(t.fom),
        *(_number(t.objectives[o]) if o in t.objectives else "" for o in objectives),
        *(_number(t.metrics[m]) if m in t.metrics else "" for m in metrics),
        *(format_value(t.params[f]) if f in t.params else "" for f in flags),
        t.attempts,
        "" if t.returncode is None else t.returncode,
        t.info.get("deme", ""),
        repr(t.started),
        repr(t.ended),
        repr(t.duration),
    ]


def _ordered(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _number(value: Any) -> str:
    # shortest round-trip form; inf and nan as pandas reads them
    value = float(value)
    return repr(value) if math.isfinite(value) else str(value)
