"""One hyperparameter's domain: a numeric :class:`Range` or a :class:`Choice` list.

Both are immutable and check themselves when built. Every value they hand out
(``sample``, ``grid``, ``clip``) is a plain Python object, never a numpy
scalar, because values end up in JSON and on command lines.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._core._checks import is_number
from .._core._errors import ConfigError, ConfigTypeError
from ._axes import GridAxis, ListedAxis, SpacedAxis
from ._values import plain, same_value, value_key

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Choice", "Parameter", "Range", "parse_parameter", "plain", "same_value"]

# integer log ranges are drawn over [low - 0.5, high + 0.5] so rounding gives every
# integer its full share of the log scale
_HALF = 0.5
#: numpy draws integers as int64
_INT64 = 2**63


@dataclass(frozen=True, slots=True)
class Range:
    """A numeric interval ``[low, high]``; integer when both bounds are ints.

    ``log`` draws and grids on a log scale (both bounds must then be > 0).
    ``has_default`` tells a missing default from a default of ``None``.
    """

    flag: str
    low: int | float
    high: int | float
    integer: bool
    log: bool = False
    default: int | float | None = None
    has_default: bool = False

    def __post_init__(self) -> None:
        self._check_bounds()
        self._check_span()
        if self.has_default and not self.contains(self.default):
            kind = "an integer" if self.integer else "a number"
            raise ConfigError(
                f"{self.flag}: the default must be {kind} in [{self.low!r}, {self.high!r}], "
                f"got {self.default!r}",
                name=self.flag,
                value=self.default,
            )

    def _check_bounds(self) -> None:
        """Each bound a finite number, ints for an integer range."""
        for name, bound in (("lower", self.low), ("upper", self.high)):
            if not is_number(bound):
                raise ConfigTypeError(
                    f"{self.flag}: the {name} bound must be a number, got {bound!r}",
                    name=self.flag,
                    value=bound,
                )
            if not math.isfinite(bound):
                raise ConfigError(
                    f"{self.flag}: the {name} bound must be finite, got {bound!r}",
                    name=self.flag,
                    value=bound,
                )
        if self.integer and not all(isinstance(b, numbers.Integral) for b in (self.low, self.high)):
            raise ConfigTypeError(
                f"{self.flag}: an integer range needs int bounds, "
                f"got ({self.low!r}, {self.high!r})",
                name=self.flag,
                value=(self.low, self.high),
            )

    def _check_span(self) -> None:
        """Low below high, positive for a log scale, and a width that can be drawn from."""
        if self.low >= self.high:
            raise ConfigError(
                f"{self.flag}: the lower bound must be below the upper bound, "
                f"got ({self.low!r}, {self.high!r})",
                name=self.flag,
                value=(self.low, self.high),
            )
        if self.log and self.low <= 0:
            raise ConfigError(
                f"{self.flag}: a log-scale range needs bounds > 0, "
                f"got ({self.low!r}, {self.high!r})",
                name=self.flag,
                value=(self.low, self.high),
            )
        if self.integer and not (self.low >= -_INT64 and self.high < _INT64):
            raise ConfigError(
                f"{self.flag}: integer bounds must lie within +-2**63 so they can be drawn, "
                f"got ({self.low!r}, {self.high!r})",
                name=self.flag,
                value=(self.low, self.high),
            )
        if not self.integer and not math.isfinite(self.high - self.low):
            raise ConfigError(
                f"{self.flag}: the range ({self.low!r}, {self.high!r}) is too wide to draw from "
                "(its width overflows a float); narrow it or use a log scale",
                name=self.flag,
                value=(self.low, self.high),
            )

    def sample(self, rng: np.random.Generator) -> int | float:
        """A uniform draw (log-uniform if ``log``); ints cover ``[low, high]`` inclusive."""
        if self.integer:
            if not self.log:
                return int(rng.integers(int(self.low), int(self.high), endpoint=True))
            u = rng.uniform(math.log(self.low - _HALF), math.log(self.high + _HALF))
            return self.clip(math.exp(u))
        if self.log:
            return self.clip(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return self.clip(float(rng.uniform(self.low, self.high)))

    def grid(self, k: int) -> list[int | float]:
        """``k`` points including both ends (log-spaced if ``log``), as a list.

        Integer ranges are rounded, deduplicated and sorted, so they may give
        fewer than ``k`` points. ``k == 1`` gives the default, or the
        (geometric, if ``log``) midpoint. :meth:`axis` gives the same points
        without building the list.
        """
        return list(self.axis(k))

    def axis(self, k: int) -> GridAxis:
        """The points of :meth:`grid` as a lazy sequence: a few numbers whatever ``k``."""
        _check_grid_size(self.flag, k)
        if k == 1:
            if self.has_default and self.default is not None:
                return ListedAxis([self.default])
            if self.log:
                return ListedAxis([self.clip(math.sqrt(self.low * self.high))])
            return ListedAxis([self.clip((self.low + self.high) / 2)])
        return SpacedAxis(
            self.flag, self.low, self.high, int(k), integer=self.integer, log=self.log
        )

    def clip(self, value: float) -> int | float:
        """``value`` moved into ``[low, high]``, rounded to an int for integer ranges."""
        if not is_number(value) or math.isnan(value):
            error = ConfigError if is_number(value) else ConfigTypeError
            raise error(
                f"{self.flag}: cannot clip {value!r}, a number is needed",
                name=self.flag,
                value=value,
            )
        clipped = min(max(float(value), float(self.low)), float(self.high))
        if self.integer:
            return min(max(math.floor(clipped + _HALF), int(self.low)), int(self.high))
        return clipped

    def contains(self, value: object) -> bool:
        """True if ``value`` belongs to this range (an int, for integer ranges)."""
        if not is_number(value):
            return False
        if self.integer and not isinstance(value, numbers.Integral):
            return False
        return bool(self.low <= value <= self.high)


@dataclass(frozen=True, slots=True)
class Choice:
    """An ordered list of values (any JSON-able type); the order matters to mutation."""

    flag: str
    values: tuple[Any, ...]
    default: Any | None = None
    has_default: bool = False

    def __post_init__(self) -> None:
        if not self.values:
            raise ConfigError(
                f"{self.flag}: the value list must not be empty", name=self.flag, value=self.values
            )
        _check_values(self.flag, self.values)
        if self.has_default:
            if not self.contains(self.default):
                raise ConfigError(
                    f"{self.flag}: the default {self.default!r} is not in the value list "
                    f"{list(self.values)!r}",
                    name=self.flag,
                    value=self.default,
                )
            # the list's own value: a default of 1 for [1.0, 2.0] is 1.0
            object.__setattr__(self, "default", self.values[self.index(self.default)])

    @property
    def numeric(self) -> bool:
        """True if every value is a number (so ``greater_than`` makes sense)."""
        return all(is_number(v) for v in self.values)

    def sample(self, rng: np.random.Generator) -> Any:
        """A value drawn uniformly from the list."""
        return self.values[int(rng.integers(len(self.values)))]

    def index(self, value: Any) -> int:
        """The position of ``value`` in the list."""
        for i, candidate in enumerate(self.values):
            if same_value(candidate, value):
                return i
        raise ConfigError(
            f"{self.flag}: {value!r} is not in the value list {list(self.values)!r}",
            name=self.flag,
            value=self.default,
        )

    def grid(self, k: int) -> list[Any]:
        """All values if there are at most ``k``, else ``k`` evenly spaced by index.

        The first and last values are included when ``k >= 2``; ``k == 1``
        gives the default, or the middle value.
        """
        return list(self.axis(k))

    def axis(self, k: int) -> GridAxis:
        """The values of :meth:`grid` as a sequence; never more than the list itself."""
        _check_grid_size(self.flag, k)
        n = len(self.values)
        if n <= k:
            return ListedAxis(self.values)
        if k == 1:
            return ListedAxis([self.default if self.has_default else self.values[(n - 1) // 2]])
        # numpy.linspace(0, n - 1, k) rounded, by the same float operations
        step = (n - 1) / (int(k) - 1)
        indices = sorted({round(i * step) for i in range(int(k) - 1)} | {n - 1})
        return ListedAxis([self.values[i] for i in indices])

    def contains(self, value: object) -> bool:
        """True if ``value`` is in the list (bools and numbers kept apart)."""
        return any(same_value(candidate, value) for candidate in self.values)


Parameter = Range | Choice
"""One hyperparameter of :class:`~hyperdeme.Params`: a :class:`~hyperdeme.Range` of
numbers or a :class:`~hyperdeme.Choice` among listed values (the type of ``params[i]``)."""


def _check_values(flag: str, values: tuple[Any, ...]) -> None:
    """Every value JSON-able and finite, none twice: linear in the list's length.

    The whole list is encoded at once (one C call); only when that fails is the
    culprit looked for value by value. Repeats are found with a set of
    :func:`value_key` keys (equal keys exactly when :func:`same_value`), so
    10**6 values take about a second, not hours (``benchmarks/value_lists.py``).
    NaN and infinities never get that far: they are refused as not finite.
    """
    try:
        json.dumps(values, allow_nan=False)
    except (TypeError, ValueError):
        for value in values:
            _check_value(flag, value)
        raise  # pragma: no cover - a list that fails has a value that fails
    seen: set[Hashable] = set()
    for value in values:
        key = value_key(value)
        if key in seen:
            raise ConfigError(f"{flag}: the value list has {value!r} twice", name=flag, value=value)
        seen.add(key)


def _check_value(flag: str, value: object) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        raise ConfigError(
            f"{flag}: values must be finite, got {value!r}", name=flag, value=value
        ) from None
    except TypeError:
        raise ConfigTypeError(
            f"{flag}: values must be JSON-able (str, int, float, bool, None, "
            f"list, dict), got {value!r} of type {type(value).__name__}",
            name=flag,
            value=value,
        ) from None


def _check_grid_size(flag: str, k: object) -> None:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ConfigError(
            f"{flag}: the number of grid points must be >= 1, got {k!r}", name=flag, value=k
        )


_OPTIONS = ("log",)


def parse_parameter(entry: object, position: int) -> Parameter:
    """One crayai spec entry, ``[flag, (default,) domain (, options)]``, as a Parameter."""
    if not isinstance(entry, list | tuple):
        raise ConfigTypeError(
            f"parameter {position} must be a list like [flag, default, domain], got {entry!r}",
            value=entry,
        )
    items = list(entry)
    options: dict[Any, Any] = items.pop() if items and isinstance(items[-1], dict) else {}
    if not items:
        raise ConfigError(
            f"parameter {position} is empty; expected [flag, default, domain]", value=entry
        )
    flag = _parse_flag(items[0], position)
    if len(items) not in (2, 3):
        raise ConfigError(
            f"{flag}: expected [flag, domain] or [flag, default, domain] (optionally followed "
            f"by an options dict), got {len(items)} elements: {items!r}",
            name=flag,
            value=items,
        )
    log = _parse_log(flag, options)
    has_default = len(items) == 3
    default = plain(items[1]) if has_default else None
    domain = items[-1]
    if isinstance(domain, tuple):
        return _parse_range(flag, domain, default, has_default, log)
    if isinstance(domain, list):
        if log:
            raise ConfigError(
                f"{flag}: the log option applies to ranges (low, high), not to a value list",
                name=flag,
                value=domain,
            )
        return Choice(flag, tuple(plain(v) for v in domain), default, has_default)
    raise ConfigTypeError(
        f"{flag}: the domain must be a tuple (low, high) or a list of values, got {domain!r}",
        name=flag,
        value=domain,
    )


def _parse_flag(flag: object, position: int) -> str:
    """The entry's flag, checked: a non-empty string fit for one ``flag=value`` argument."""
    if not isinstance(flag, str):
        raise ConfigTypeError(
            f"parameter {position}: the flag must be a string, got {flag!r}", value=flag
        )
    if not flag.strip():
        raise ConfigError(
            f"parameter {position}: the flag must not be empty, got {flag!r}", value=flag
        )
    bad = [c for c in ("=", "\n", "\r", "\0") if c in flag]
    if bad:
        raise ConfigError(
            f"parameter {position}: the flag {flag!r} contains {bad[0]!r}; a flag is passed as "
            "one 'flag=value' argument, so it may not contain '=', line breaks or NUL",
            value=flag,
        )
    return flag


def _parse_log(flag: str, options: dict[Any, Any]) -> bool:
    """The entry's ``log`` option (False when not given); other options are refused."""
    for key in options:
        if key not in _OPTIONS:
            raise ConfigError(
                f"{flag}: unknown option {key!r}; allowed: {', '.join(_OPTIONS)}",
                name=flag,
                value=key,
            )
    log = options.get("log", False)
    if not isinstance(log, bool):
        raise ConfigTypeError(
            f"{flag}: the log option must be True or False, got {log!r}", name=flag, value=log
        )
    return log


def _parse_range(
    flag: str, domain: tuple[Any, ...], default: Any, has_default: bool, log: bool
) -> Range:
    if len(domain) != 2:
        raise ConfigError(
            f"{flag}: a range must be (low, high), got {domain!r}", name=flag, value=domain
        )
    low, high = (plain(b) for b in domain)
    for name, bound in (("lower", low), ("upper", high)):
        if not is_number(bound):
            raise ConfigTypeError(
                f"{flag}: the {name} bound must be a number (not a bool), got {bound!r}",
                name=flag,
                value=bound,
            )
    integer = isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral)
    convert = int if integer else float
    if (
        has_default
        and is_number(default)
        and (not integer or isinstance(default, numbers.Integral))
    ):
        default = convert(default)
    return Range(flag, convert(low), convert(high), integer, log, default, has_default)
