"""Public names report the public module they are used from, as anyio's do.

``hyperdeme.ConfigError`` is defined in a private module; after
:func:`publish`, its ``__module__`` is ``"hyperdeme"``, so reprs,
tracebacks, ``help()`` and pickles show the name users import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["publish"]


def publish(module: str, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set ``__module__`` of each class and function ``names`` of ``namespace`` that
    hyperdeme defines privately to ``module``."""
    for name in names:
        value = namespace[name]
        if getattr(value, "__module__", "").startswith("hyperdeme.") and hasattr(
            value, "__qualname__"
        ):
            value.__module__ = module
