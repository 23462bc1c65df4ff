"""Figures of merit: find metrics in a program's output, combine them into one FoM.

Output is scanned as a stream of chunks. Complete lines are searched (a
carriage return ends a line too: progress bars redraw with ``\r`` and may
never print a newline); an unfinished line is carried over to the next chunk.
When it grows past 64 KiB it is searched as it is, accepting only numbers
that more output follows (so they are complete), and only its last 4 KiB are
carried on: a metric cut short by the trim is found again there. So a
program printing gigabytes, with or without newlines, costs constant memory,
and a metric followed by anything is kept (a name and number longer than
4 KiB are the limit). The *last* value printed counts (training scripts print
the FoM every epoch).

**Steps.** Given an ``on_step`` listener (early stopping), the scanner also
reports each intermediate FoM as the program prints it: each complete line
carrying the metric is one step (the last value on the line counts). For a
dict metric a step is complete once every metric of the dict has a new value
since the previous step, on one line or several, in any order; its FoM is the
weighted sum of the latest values. An unterminated last line (read by
``close``, after the program ended) is no step.

A scanner made ``live=False`` has a listener that needs no step before the
program ends (it only counts them): the program's output may then be read once it
ended, from its log file, instead of as it is printed (see
:mod:`hyperdeme.launchers._direct`); the steps it hears are the same.

**Whole numbers only.** A number is read whole or not at all: one followed
directly by a letter, a digit or ``_``, or by ``.`` and a digit (``0x10``,
``1_000``, ``1.2.3``, ``5s``), is no number this reader knows, and it is never
read as its prefix (0, 1, 1.2, 5). Such a line *refuses* the metric: the
metric reads NaN (the trial ends ``no_metric``) and :attr:`MetricScanner.refused`
keeps the line, which the trial's error quotes; a later line with a whole
number counts again. Put a space between a number and its unit (``5 s``).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Mapping

from .._core._checks import is_number
from .._core._errors import ConfigError

__all__ = ["MetricScanner", "MetricSpec", "StepListener", "missing"]

#: called with each intermediate FoM (NaN when a metric of it is NaN)
StepListener = Callable[[float], None]

#: a number; ``nan``/``inf`` only as whole words ("FoM: information" is no infinity)
_NUMBER = rb"([-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|(?:nan|inf(?:inity)?)(?![a-z])))"
_AFTER_PREFIX = re.compile(rb"[ \t]*" + _NUMBER, re.IGNORECASE)
_AFTER_NAME = re.compile(rb"[ \t]*[:=]?[ \t]*" + _NUMBER, re.IGNORECASE)
#: a byte that may not follow a number directly: it would be the start of a longer one
_CONTINUES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_DIGITS = frozenset(b"0123456789")
_MAX_CARRY = 1 << 16
#: what a trimmed line keeps: room for a metric's name and number cut by the trim
_OVERLAP = 1 << 12
#: bytes that must follow a number in a trimmed line for it to be complete (the
#: regex stops before "e-" that a digit may still follow)
_LOOKAHEAD = 3


class MetricSpec:
    """What to look for and how to weigh it: crayai's ``metric`` argument.

    * ``"FoM: "``: the number after the last occurrence of that prefix; the
      metric is named after the prefix without its punctuation (``"FoM"``).
    * ``{"loss": 0.7, "time": 0.3}``: each name followed by optional ``:``/``=``
      and a number; FoM = weighted sum of each metric's last value. A negative
      weight maximizes that metric.
    * ``objectives={"val_loss": "minimize", "latency_ms": "minimize"}`` (given,
      ``metric`` is ignored): each name read as a dict metric is; the FoM is the
      first objective's value, and every objective must be there (else the
      trial has no result). A step is complete once each objective has a new
      value (see the module docstring).
    """

    def __init__(
        self, metric: str | Mapping[str, float], *, objectives: Mapping[str, str] | None = None
    ) -> None:
        #: the objectives' names, in order (empty: one FoM)
        self.objectives: tuple[str, ...] = tuple(objectives or ())
        self.prefix: bytes | None = None
        self.weights: dict[str, float]
        if self.objectives:
            self.weights = {self.objectives[0]: 1.0}
        elif isinstance(metric, str):
            name = metric.strip().rstrip(":=").strip() or metric
            self.prefix = metric.encode()
            self.weights = {name: 1.0}
        else:
            self.prefix = None
            self.weights = {name: float(weight) for name, weight in metric.items()}
        self.names = self.objectives or tuple(self.weights)

    def scanner(self, on_step: StepListener | None = None, *, live: bool = True) -> MetricScanner:
        """A scanner of one attempt's output; ``live=False``: ``on_step`` may hear the
        steps after the program ended (see the module docstring)."""
        return MetricScanner(self, on_step, live=live)

    def fom(self, metrics: Mapping[str, float]) -> float | None:
        """The weighted sum (with objectives: the first one's value), or None when a
        metric (an objective) is missing or NaN."""
        if any(math.isnan(metrics.get(name, math.nan)) for name in self.objectives):
            return None
        total = 0.0
        for name, weight in self.weights.items():
            value = metrics.get(name)
            if value is None or math.isnan(value):
                return None
            total += weight * value
        return total

    def objective_values(self, metrics: Mapping[str, float]) -> dict[str, float]:
        """Each objective's value in ``metrics``, in order (empty for one FoM)."""
        return {name: metrics[name] for name in self.objectives if name in metrics}

    def from_result(self, result: object) -> dict[str, float]:
        """Metrics of a callable evaluator's return value (a number or a dict)."""
        if isinstance(result, Mapping):
            metrics: dict[str, float] = {}
            for key, value in result.items():
                if not isinstance(key, str) or not is_number(value):
                    raise ConfigError(
                        f"an evaluation function must return a number or a dict of "
                        f"name -> number; got {key!r}: {value!r}.",
                        value=result,
                    )
                metrics[key] = _float(value, key)
            return metrics
        if is_number(result):
            value = _float(result)
            return {self.names[0]: value} if len(self.names) == 1 else {"FoM": value}
        raise ConfigError(
            f"an evaluation function must return a number or a dict of metrics, got {result!r}.",
            value=result,
        )


def _float(value: object, key: str | None = None) -> float:
    """A returned number as a float; ConfigError naming it when no float holds it."""
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        size = f"an int of {value.bit_length()} bits" if isinstance(value, int) else repr(value)
        what = "the evaluation function returned" + (f" for {key!r}" if key else "")
        raise ConfigError(
            f"{what} {size}, which is not a float (OverflowError: larger than "
            f"{sys.float_info.max:.3g}); return a float.",
            value=type(value).__name__,
        ) from None


def missing(spec: MetricSpec, metrics: Mapping[str, float], refused: Mapping[str, str]) -> str:
    """Why a trial has no FoM: its metrics missing or NaN, quoting the lines refused."""
    names = ", ".join(n for n in spec.names if math.isnan(metrics.get(n, math.nan)))
    said = "".join(
        f"; the line {line!r} has no number read whole for {name} (a decimal number, "
        "then a space or punctuation: not 0x10, 1_000 or 5s)"
        for name, line in refused.items()
    )
    return f"metric(s) missing or NaN in the output: {names}{said}"


class MetricScanner:
    """Feed it output chunks; ``metrics`` holds the last value seen of each metric, and
    ``on_step`` (if given) hears each step's FoM (see the module docstring)."""

    def __init__(
        self, spec: MetricSpec, on_step: StepListener | None = None, *, live: bool = True
    ) -> None:
        self._spec = spec
        #: whether the output must be scanned as it is printed (a listener judging steps)
        self.live = live and on_step is not None
        self._carry = bytearray()  # the unfinished line
        self._lead = 0  # bytes at the start of the carry kept as context only
        self._names = [(name, name.encode()) for name in spec.names]
        self.metrics: dict[str, float] = {}
        #: metrics whose last occurrence held no whole number: the line, quoted by errors
        self.refused: dict[str, str] = {}
        self._on_step = on_step
        #: metrics with a new value since the last step
        self._fresh: set[str] = set()

    def feed(self, data: bytes) -> None:
        end = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if end >= 0:
            line_end = data[: end + 1]
            block = bytes(self._carry) + line_end if self._carry else line_end
            if self._on_step is None:
                self._scan(block, self._lead)
            else:
                self._scan_steps(block, self._lead)
            self._carry, self._lead = bytearray(data[end + 1 :]), 0
        else:
            self._carry += data
        if len(self._carry) > _MAX_CARRY:
            self._trim()

    def close(self) -> dict[str, float]:
        """Scan what is left of an unterminated last line (no step); return the metrics."""
        if self._carry:
            self._scan(bytes(self._carry), self._lead)
            self._carry, self._lead = bytearray(), 0
        return self.metrics

    def _trim(self) -> None:
        """Search an unfinished line grown too long, then keep only its tail."""
        self._scan(bytes(self._carry), self._lead, finished=False)
        # one byte before the tail stays as context: is a name there a whole word?
        self._carry, self._lead = self._carry[-_OVERLAP - 1 :], 1

    def _scan(self, block: bytes, start: int, *, finished: bool = True) -> None:
        """Record the last value of each metric in ``block``, names from ``start`` on.

        In an unfinished block, a number must be followed by a few more bytes.
        """
        limit = len(block) if finished else len(block) - _LOOKAHEAD
        prefix = self._spec.prefix
        if prefix is not None:
            value = _last(block, prefix, _AFTER_PREFIX, word=False, start=start, limit=limit)
            if value is not None:
                self._set(self._names[0][0], value)
            return
        for name, needle in self._names:
            value = _last(block, needle, _AFTER_NAME, word=True, start=start, limit=limit)
            if value is not None:
                self._set(name, value)

    def _set(self, name: str, value: float | Refused) -> float:
        """Record ``name``'s latest value (NaN, its line kept, when refused)."""
        if isinstance(value, Refused):
            self.refused[name] = value.line
            self.metrics[name] = math.nan
            return math.nan
        self.refused.pop(name, None)
        self.metrics[name] = value
        return value

    def _scan_steps(self, block: bytes, start: int) -> None:
        """Like :meth:`_scan` on complete lines, line by line in order, reporting each
        completed step."""
        found: list[tuple[int, str, float | Refused]] = []
        prefix = self._spec.prefix
        if prefix is not None:
            name = self._names[0][0]
            found = [(pos, name, v) for pos, v in _each(block, prefix, _AFTER_PREFIX, False, start)]
        else:
            for name, needle in self._names:
                found += [
                    (pos, name, v) for pos, v in _each(block, needle, _AFTER_NAME, True, start)
                ]
            found.sort()
        line: dict[str, float] = {}
        line_end = -1
        for pos, name, value in found:
            if pos > line_end:  # a new line: the previous one is complete
                self._end_line(line)
                line = {}
                line_end = _line_end(block, pos)
            line[name] = self._set(name, value)  # the last value on a line counts
        self._end_line(line)

    def _end_line(self, line: dict[str, float]) -> None:
        if not line:
            return
        self.metrics.update(line)
        self._fresh.update(line)
        if len(self._fresh) == len(self._names) and self._on_step is not None:
            self._fresh.clear()
            fom = self._spec.fom(self.metrics)
            self._on_step(math.nan if fom is None else fom)


class Refused:
    """An occurrence of a metric followed by no whole number: its line, as text."""

    __slots__ = ("line",)

    def __init__(self, block: bytes, pos: int) -> None:
        start = max(block.rfind(b"\n", 0, pos), block.rfind(b"\r", 0, pos)) + 1
        text = block[start : _line_end(block, pos)].decode(errors="replace").strip()
        self.line = text if len(text) <= 200 else text[:200] + "..."


def _value_at(
    block: bytes, pos: int, needle: bytes, number: re.Pattern[bytes], word: bool, limit: int
) -> float | Refused | None:
    """The number after the occurrence of ``needle`` at ``pos``, if it is one ending by
    ``limit``; :class:`Refused` when the number does not end there (``0x10``).

    With ``word``, ``needle`` must be a whole word: neither ``val_loss`` nor
    ``loss5`` is ``loss``.
    """
    after = pos + len(needle)
    if word:
        if pos > 0 and _is_word(block[pos - 1]):
            return None
        if _is_word(needle[-1]) and after < len(block) and _is_word(block[after]):
            return None
    match = number.match(block, after)
    if match is None or match.end() > limit:
        return None
    if _continues(block, match.end()):
        return Refused(block, pos)
    return float(match.group(1))


def _continues(block: bytes, end: int) -> bool:
    """Whether the number ending at ``end`` goes on: a letter, digit or ``_`` next, or
    ``.`` and a digit."""
    if end >= len(block):
        return False
    if block[end] in _CONTINUES:
        return True
    return block[end] == 0x2E and end + 1 < len(block) and block[end + 1] in _DIGITS


def _last(
    block: bytes,
    needle: bytes,
    number: re.Pattern[bytes],
    *,
    word: bool,
    start: int = 0,
    limit: int | None = None,
) -> float | Refused | None:
    """The number after the last occurrence of ``needle`` that is followed by one.

    Occurrences start at ``start`` or later and their number ends by ``limit``.
    """
    limit = len(block) if limit is None else limit
    pos = block.rfind(needle, start)
    while pos >= 0:
        value = _value_at(block, pos, needle, number, word, limit)
        if value is not None:
            return value
        pos = block.rfind(needle, start, pos + len(needle) - 1)
    return None


def _each(
    block: bytes, needle: bytes, number: re.Pattern[bytes], word: bool, start: int = 0
) -> list[tuple[int, float | Refused]]:
    """Every occurrence of ``needle`` from ``start`` followed by a number, in order."""
    found = []
    pos = block.find(needle, start)
    while pos >= 0:
        value = _value_at(block, pos, needle, number, word, len(block))
        if value is not None:
            found.append((pos, value))
        pos = block.find(needle, pos + 1)
    return found


def _line_end(block: bytes, pos: int) -> int:
    """Where the line holding ``pos`` ends (its newline or carriage return)."""
    ends = [end for end in (block.find(b"\n", pos), block.find(b"\r", pos)) if end >= 0]
    return min(ends) if ends else len(block)


def _is_word(byte: int) -> bool:
    return byte == 0x5F or chr(byte).isalnum()
