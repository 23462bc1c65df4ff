"""The engine internals the command reuses: the one place that imports them.

Everything else in :mod:`hyperdeme._cli` uses the public ``hyperdeme`` API
only. When the package is restructured, repoint these imports here.
"""

from __future__ import annotations

from .._engine._command import format_value as format_value
from .._engine._command import hyperparameter_args as hyperparameter_args

__all__ = ["format_value", "hyperparameter_args"]
