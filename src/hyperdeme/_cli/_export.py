"""``hyperdeme export``: one row per finished trial, as CSV (the default) or JSON lines.

CSV columns, header first: ``id``, ``status``, ``fom``, then with several objectives each
one (``objective.<name>``, empty for a trial without it), each metric (``metric.<name>``),
each parameter (its flag; empty where inactive), then ``attempts``, ``returncode``,
``deme``, ``steps`` (intermediate FoMs seen), ``intermediate`` (the FoMs the
early-stopping rule kept, a compact JSON list of ``[step, fom]`` pairs), the times
``started`` and ``ended`` as ISO 8601 in UTC, the same as Unix seconds in
``started_unix`` and ``ended_unix``, and ``duration`` (seconds). Metrics and parameters
appear in the order first seen. Lines end in CRLF (RFC 4180). Non-finite numbers are
written ``inf``/``nan``, as pandas reads them.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (OWASP "CSV injection"), and a journal's text comes from programs and
experiment files. So by default such a text cell gets a leading ``'``, which shows it as
text. Numbers are never changed (a FoM of -0.5 stays the number -0.5), nor are header
cells that are plain flags (``--lr``: letters, digits, ``_``, ``.`` and ``-`` cannot make
a formula that runs anything). ``raw=True`` (``--raw``) writes every cell as it is.

JSON lines (``--json``): one object per trial and line, the same fields, typed
(``params``, ``metrics`` and ``objectives`` as objects, ``intermediate`` as a list of
pairs, non-finite numbers as ``null``); never neutralised (no spreadsheet reads it).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

import hyperdeme

from ._engine_internals import format_value

__all__ = ["neutralised", "write_csv", "write_json"]

LEADING = ("id", "status", "fom")
TRAILING = (
    "attempts",
    "returncode",
    "deme",
    "steps",
    "intermediate",
    "started",
    "ended",
    "started_unix",
    "ended_unix",
    "duration",
)
#: what a spreadsheet reads as the start of a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: a header cell that is a plain flag stays as it is: these characters make no formula
_PLAIN_FLAG = re.compile(r"-{1,2}[A-Za-z0-9_][A-Za-z0-9_.-]*")


def neutralised(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(trials: Iterable[hyperdeme.Trial], out: TextIO, *, raw: bool = False) -> int:
    """Write ``trials`` as CSV to ``out`` (text cells neutralised unless ``raw``); return
    the number of rows."""
    trials = list(trials)
    objectives, metrics, flags = _columns(trials)
    text: Callable[[str], str] = (lambda cell: cell) if raw else neutralised
    # RFC 4180's CRLF: Python 3.11's writer quotes a cell holding \r (a program's text may)
    # only when the line terminator contains it; unquoted, it would end the row
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            *LEADING,
            *(text(f"objective.{o}") for o in objectives),
            *(text(f"metric.{m}") for m in metrics),
            *(f if raw or _PLAIN_FLAG.fullmatch(f) else neutralised(f) for f in flags),
            *TRAILING,
        ]
    )
    for t in trials:
        writer.writerow(_row(t, objectives, metrics, flags, text))
    return len(trials)


def _row(
    t: hyperdeme.Trial,
    objectives: list[str],
    metrics: list[str],
    flags: list[str],
    text: Callable[[str], str],
) -> list[object]:
    return [
        t.id,
        t.status.value,
        _number(t.fom),
        *(_number(t.objectives[o]) if o in t.objectives else "" for o in objectives),
        *(_number(t.metrics[m]) if m in t.metrics else "" for m in metrics),
        *(_value(t.params[f], text) if f in t.params else "" for f in flags),
        t.attempts,
        "" if t.returncode is None else t.returncode,
        _value(t.info.get("deme", ""), text),
        t.steps,
        json.dumps(_pairs(t), separators=(",", ":")) if t.intermediate else "",
        _iso(t.started),
        _iso(t.ended),
        repr(t.started),
        repr(t.ended),
        repr(t.duration),
    ]


def write_json(trials: Iterable[hyperdeme.Trial], out: TextIO) -> int:
    """Write ``trials`` as JSON lines to ``out``; return the number of lines."""
    count = 0
    for t in trials:
        record = {
            "id": t.id,
            "status": t.status.value,
            "fom": _finite(t.fom),
            **(
                {"objectives": {k: _finite(v) for k, v in t.objectives.items()}}
                if t.objectives
                else {}
            ),
            "metrics": {k: _finite(v) for k, v in t.metrics.items()},
            "params": t.params,
            "attempts": t.attempts,
            "returncode": t.returncode,
            "deme": t.info.get("deme"),
            "steps": t.steps,
            "intermediate": _pairs(t),
            "started": _iso(t.started) or None,
            "ended": _iso(t.ended) or None,
            "started_unix": t.started,
            "ended_unix": t.ended,
            "duration": t.duration,
        }
        out.write(json.dumps(record, default=format_value, allow_nan=False) + "\n")
        count += 1
    return count


def _columns(trials: list[hyperdeme.Trial]) -> tuple[list[str], list[str], list[str]]:
    objectives = _ordered(name for t in trials for name in t.objectives)
    metrics = _ordered(name for t in trials for name in t.metrics)
    flags = _ordered(flag for t in trials for flag in t.params)
    return objectives, metrics, flags


def _value(value: Any, text: Callable[[str], str]) -> str:
    # only text is neutralised: a number keeps its sign, whatever it looks like
    return text(value) if isinstance(value, str) else format_value(value)


def _pairs(t: hyperdeme.Trial) -> list[list[float | None]]:
    return [[step, _finite(fom)] for step, fom in sorted(t.intermediate.items())]


def _iso(seconds: float) -> str:
    """Unix time as ISO 8601 in UTC, to the millisecond; empty when it is unknown (0)."""
    if not seconds:
        return ""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def _ordered(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _number(value: Any) -> str:
    # shortest round-trip form; inf and nan as pandas reads them
    value = float(value)
    return repr(value) if math.isfinite(value) else str(value)
