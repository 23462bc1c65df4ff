"""The ``hyperdeme`` command (``python -m hyperdeme``): run, status, best, export, report.

Private: nothing here is imported by ``import hyperdeme``. It builds on the
public API only, except the flag formatting it shares with the engine
(``_engine_internals``).
"""

from ._main import main as main

__all__ = ["main"]
