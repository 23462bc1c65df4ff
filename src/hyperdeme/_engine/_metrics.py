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
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from .._core._checks import is_number
from .._core._errors import ConfigError

__all__ = ["MetricScanner", "MetricSpec"]

#: a number; ``nan``/``inf`` only as whole words ("FoM: information" is no infinity)
_NUMBER = rb"([-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|(?:nan|inf(?:inity)?)(?![a-z])))"
_AFTER_PREFIX = re.compile(rb"[ \t]*" + _NUMBER, re.IGNORECASE)
_AFTER_NAME = re.compile(rb"[ \t]*[:=]?[ \t]*" + _NUMBER, re.IGNORECASE)
#: an unfinished line longer than this is searched and trimmed
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
    """

    def __init__(self, metric: str | Mapping[str, float]) -> None:
        if isinstance(metric, str):
            name = metric.strip().rstrip(":=").strip() or metric
            self.prefix: bytes | None = metric.encode()
            self.weights: dict[str, float] = {name: 1.0}
        else:
            self.prefix = None
            self.weights = {name: float(weight) for name, weight in metric.items()}
        self.names = tuple(self.weights)

    def scanner(self) -> MetricScanner:
        return MetricScanner(self)

    def fom(self, metrics: Mapping[str, float]) -> float | None:
        """The weighted sum, or None when a metric is missing or NaN."""
        total = 0.0
        for name, weight in self.weights.items():
            value = metrics.get(name)
            if value is None or math.isnan(value):
                return None
            total += weight * value
        return total

    def from_result(self, result: object) -> dict[str, float]:
        """Metrics of a callable evaluator's return value (a number or a dict)."""
        if isinstance(result, Mapping):
            metrics: dict[str, float] = {}
            for key, value in result.items():
                if not isinstance(key, str) or not is_number(value):
                    raise ConfigError(
                        f"an evaluation function must return a number or a dict of "
                        f"name -> number; got {key!r}: {value!r}."
                    )
                metrics[key] = float(value)
            return metrics
        if is_number(result):
            value = float(result)
            return {self.names[0]: value} if len(self.names) == 1 else {"FoM": value}
        raise ConfigError(
            f"an evaluation function must return a number or a dict of metrics, got {result!r}."
        )


class MetricScanner:
    """Feed it output chunks; ``metrics`` holds the last value seen of each metric."""

    def __init__(self, spec: MetricSpec) -> None:
        self._spec = spec
        self._carry = bytearray()  # the unfinished line
        self._lead = 0  # bytes at the start of the carry kept as context only
        self._names = [(name, name.encode()) for name in spec.names]
        self.metrics: dict[str, float] = {}

    def feed(self, data: bytes) -> None:
        end = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if end >= 0:
            line_end = data[: end + 1]
            self._scan(bytes(self._carry) + line_end if self._carry else line_end, self._lead)
            self._carry, self._lead = bytearray(data[end + 1 :]), 0
        else:
            self._carry += data
        if len(self._carry) > _MAX_CARRY:
            self._trim()

    def close(self) -> dict[str, float]:
        """Scan what is left of an unterminated last line; return the metrics."""
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
                self.metrics[self._names[0][0]] = value
            return
        for name, needle in self._names:
            value = _last(block, needle, _AFTER_NAME, word=True, start=start, limit=limit)
            if value is not None:
                self.metrics[name] = value


def _last(
    block: bytes,
    needle: bytes,
    number: re.Pattern[bytes],
    *,
    word: bool,
    start: int = 0,
    limit: int | None = None,
) -> float | None:
    """The number after the last occurrence of ``needle`` that is followed by one.

    Occurrences start at ``start`` or later and their number ends by ``limit``.
    With ``word``, ``needle`` must be a whole word: neither ``val_loss`` nor
    ``loss5`` is ``loss``.
    """
    limit = len(block) if limit is None else limit
    pos = block.rfind(needle, start)
    end_is_word = word and _is_word(needle[-1])
    while pos >= 0:
        after = pos + len(needle)
        before_ok = not word or pos == 0 or not _is_word(block[pos - 1])
        after_ok = not end_is_word or after == len(block) or not _is_word(block[after])
        if before_ok and after_ok:
            match = number.match(block, after)
            if match is not None and match.end() <= limit:
                return float(match.group(1))
        pos = block.rfind(needle, start, pos + len(needle) - 1)
    return None


def _is_word(byte: int) -> bool:
    return byte == 0x5F or chr(byte).isalnum()
