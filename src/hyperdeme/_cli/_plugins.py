"""``hyperdeme --list-plugins``: what each entry-point group offers, built-in and installed.

Plug-ins are listed from their packages' metadata (name, the object the entry
point names, the package and its version) without importing them, so a
broken plug-in shows up here and fails only the runs that use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .._core._plugins import EARLY_STOPPING, GROUPS, LAUNCHERS, STRATEGIES, plugins
from ..launchers._registry import BUILT_IN
from ._experiment import EARLY_STOPPING as RULES
from ._experiment import OPTIMIZERS

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = ["built_in", "plugin_lines"]


def built_in(group: str) -> tuple[str, ...]:
    """The names hyperdeme itself provides in ``group`` (a plug-in cannot replace them)."""
    names: dict[str, Iterable[str]] = {
        LAUNCHERS: BUILT_IN,
        STRATEGIES: OPTIMIZERS,
        EARLY_STOPPING: RULES,
    }
    return tuple(names[group])


def plugin_lines() -> list[str]:
    """The report, one group after the other."""
    lines: list[str] = []
    for group in GROUPS:
        names = built_in(group)
        lines += [f"{group}:", f"  built-in: {', '.join(names)}"]
        found = plugins(group)
        if not found:
            lines.append("  plug-ins: none installed")
        for name, point in sorted(found.items()):
            lines.append(f"  {_describe(name, point)}{_shadowed(name, names)}")
    return lines


def _describe(name: str, point: EntryPoint) -> str:
    dist = point.dist
    package = "an unknown package" if dist is None else f"{dist.name} {dist.version}"
    return f"{name} = {point.value}  (from {package})"


def _shadowed(name: str, names: tuple[str, ...]) -> str:
    return "  [not used: a built-in has this name]" if name in names else ""
