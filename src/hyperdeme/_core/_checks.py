"""Argument checks shared by every configuration: each returns the value, normalized,
or raises an error naming the argument, the bad value and what is allowed (in its
message, and as its ``.name`` and ``.value``).

A check is a function ``(name, value) -> value``; the ones taking options
(``count(minimum=1)``) return such a function. They are the entries of the
per-field validator tables of :mod:`._settings`.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeGuard

from ._errors import ConfigError, ConfigTypeError

__all__ = [
    "Check",
    "boolean",
    "count",
    "is_integer",
    "is_number",
    "is_shell_name",
    "number",
    "numbers_sequence",
    "one_of",
    "optional",
    "part",
    "path_text",
    "rate",
    "seed",
    "string_mapping",
    "text",
]

Check = Callable[[str, Any], Any]


def is_number(value: object) -> TypeGuard[float]:
    """True for a real number that is not a bool (``True`` is no learning rate).

    NumPy scalars count (``numpy.bool_`` does not): NumPy registers its number
    types with :mod:`numbers`, so this needs no NumPy import.
    """
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_integer(value: object) -> TypeGuard[int]:
    """True for an integer that is not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_shell_name(key: str) -> bool:
    """True for a POSIX environment variable name, which a shell can export."""
    return _SHELL_NAME.fullmatch(key) is not None


def count(minimum: int = 0) -> Check:
    """An int ``>= minimum`` (not a bool)."""

    def check(name: str, value: Any) -> int:
        if not is_integer(value):
            raise ConfigTypeError(
                f"{name} must be an integer >= {minimum}, got {value!r}.", name=name, value=value
            )
        if value < minimum:
            raise ConfigError(
                f"{name} must be an integer >= {minimum}, got {value!r}.", name=name, value=value
            )
        return int(value)

    return check


def number(
    minimum: float = 0.0, *, above: bool = False, infinite: bool = False, unit: str = ""
) -> Check:
    """A real number ``>= minimum`` (``> minimum`` with ``above``), as a float; NaN never,
    infinity only with ``infinite``."""
    relation = ">" if above else ">="
    what = f"a number {relation} {minimum:g}{f' ({unit})' if unit else ''}"

    def check(name: str, value: Any) -> float:
        if not is_number(value):
            raise ConfigTypeError(f"{name} must be {what}, got {value!r}.", name=name, value=value)
        result = _float(name, value, what)
        if (
            math.isnan(result)
            or (math.isinf(result) and not infinite)
            or result < minimum
            or (above and result == minimum)
        ):
            raise ConfigError(f"{name} must be {what}, got {value!r}.", name=name, value=value)
        return result

    return check


def rate(name: str, value: Any) -> float:
    """A number in [0, 1], as a float."""
    if not is_number(value):
        raise ConfigTypeError(
            f"{name} must be a number in [0, 1], got {value!r}.", name=name, value=value
        )
    result = _float(name, value, "a number in [0, 1]")
    if not 0.0 <= result <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1], got {value!r}.", name=name, value=value)
    return result


def _float(name: str, value: Any, what: str) -> float:
    """``float(value)``; an int past a float's range (``10**400``) is a ConfigError, not
    an OverflowError."""
    try:
        return float(value)
    except OverflowError:
        shown = f"{str(value)[:20]}... ({len(str(value))} digits)"
        raise ConfigError(
            f"{name} must be {what}, got {shown}: too large for a float.", name=name, value=value
        ) from None


def path_text(name: str, value: Any) -> str:
    """A string naming a file or directory: no part of it longer than the file system
    takes (``PC_NAME_MAX``, in bytes), nor the whole (``PC_PATH_MAX``), so a run is not
    stopped by ENAMETOOLONG once it has started."""
    path = text(name, value)
    if not path:
        return path
    absolute = os.path.abspath(path)
    existing = "/"  # the deepest directory of the path that exists: its limits count
    parts = absolute.split("/")
    for i in range(2, len(parts) + 1):
        candidate = "/".join(parts[:i]) or "/"
        if not os.path.isdir(candidate):
            break
        existing = candidate
    name_max, path_max = _limit(existing, "PC_NAME_MAX", 255), _limit(existing, "PC_PATH_MAX", 4096)
    for part in parts:
        length = len(part.encode(errors="surrogateescape"))
        if length > name_max:
            raise ConfigError(
                f"{name}: the part {part[:40]!r}... of the path is {length} bytes long; the "
                f"file system takes names of at most {name_max} bytes (PC_NAME_MAX).",
                name=name,
                value=value,
            )
    length = len(absolute.encode(errors="surrogateescape"))
    if length >= path_max:
        raise ConfigError(
            f"{name}: the path is {length} bytes long; the file system takes paths of at "
            f"most {path_max - 1} bytes (PC_PATH_MAX).",
            name=name,
            value=value,
        )
    return path


def _limit(directory: str, setting: str, default: int) -> int:
    try:
        return os.pathconf(directory, setting)
    except (OSError, ValueError):
        return default


def text(name: str, value: Any) -> str:
    """A string (may be empty)."""
    if not isinstance(value, str):
        raise ConfigTypeError(f"{name} must be a string, got {value!r}.", name=name, value=value)
    if "\0" in value:
        raise ConfigError(
            f"{name} must not contain a NUL character, got {value!r}.", name=name, value=value
        )
    return value


def boolean(name: str, value: Any) -> bool:
    """True or False (an int 0/1 too: argparse counts such as ``-v``)."""
    if isinstance(value, bool):
        return value
    if is_integer(value) and value >= 0:
        return bool(value)
    raise ConfigTypeError(f"{name} must be True or False, got {value!r}.", name=name, value=value)


def one_of(allowed: Collection[str] | Callable[[], Collection[str]]) -> Check:
    """One of the strings ``allowed`` (or of what ``allowed()`` returns at check time)."""

    def check(name: str, value: Any) -> str:
        options = allowed() if callable(allowed) else allowed
        if not isinstance(value, str) or value not in options:
            error = ConfigError if isinstance(value, str) else ConfigTypeError
            raise error(
                f"{name} must be one of {', '.join(options)}; got {value!r}.",
                name=name,
                value=value,
            )
        return value

    return check


def part(check: Check, label: str, value: Any, *, name: str) -> Any:
    """``check(label, value)`` for a part of the setting ``name`` that ``label``
    describes (``"perturb (each factor)"``): the message says ``label``, the
    error's ``.name`` is ``name``."""
    try:
        return check(label, value)
    except ConfigError as error:
        error.name = name
        raise


def optional(inner: Check) -> Check:
    """None, or what ``inner`` accepts."""

    def check(name: str, value: Any) -> Any:
        return None if value is None else inner(name, value)

    return check


def string_mapping(*, what: str = "a dict of strings to strings") -> Check:
    """A mapping of str to str (copied into a plain dict)."""

    def check(name: str, value: Any) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise ConfigTypeError(f"{name} must be {what}, got {value!r}.", name=name, value=value)
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str):
                raise ConfigTypeError(
                    f"{name} must be {what}; {key!r}: {item!r} is not a string pair.",
                    name=name,
                    value=value,
                )
        return dict(value)

    return check


def seed(name: str, value: Any) -> int:
    """A seed: an int >= 0 (0 draws a fresh one); None means 0."""
    if value is None:
        return 0
    if not is_integer(value) or value < 0:
        error = ConfigError if is_integer(value) else ConfigTypeError
        raise error(
            f"{name} must be an integer >= 0 (0 or None draws a fresh seed), got {value!r}.",
            name=name,
            value=value,
        )
    return int(value)


def numbers_sequence(length: int) -> Check:
    """``length`` finite numbers, as a tuple of floats."""

    def check(name: str, value: Any) -> tuple[float, ...]:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise ConfigTypeError(
                f"{name} must be {length} finite numbers, got {value!r}.", name=name, value=value
            )
        if len(value) != length or not all(is_number(v) and math.isfinite(v) for v in value):
            raise ConfigError(
                f"{name} must be {length} finite numbers, got {value!r}.", name=name, value=value
            )
        return tuple(float(v) for v in value)

    return check
