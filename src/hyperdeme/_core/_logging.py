"""hyperdeme's logging: structlog events routed through the stdlib ``hyperdeme`` logger.

A library must not configure logging for its users, and must stay quiet at
INFO unless asked. Events have stable names (``trial.started``,
``trial.finished``, ``trial.retry`` ...) and go through the application's
structlog configuration (so ``structlog.testing.capture_logs`` sees them) to
the stdlib logger ``hyperdeme.<module>``, which prints nothing below WARNING
until the application or ``verbose=True`` adds a handler.

An event nobody can see (structlog not configured by the application, the
stdlib logger not enabled for its level) costs one level check: structlog is
imported, and events rendered, only once someone listens. That keeps
``import hyperdeme`` and the scheduler's hot path cheap.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Logger", "get_logger", "log_context", "verbose_output"]

ROOT = "hyperdeme"


class Logger:
    """A module's logger: ``log.info("trial.started", trial=3, params=...)``."""

    __slots__ = ("_bound", "_stdlib")

    def __init__(self, name: str) -> None:
        self._stdlib = logging.getLogger(name)
        self._bound: Any = None

    def debug(self, event: str, **fields: Any) -> None:
        self._log(logging.DEBUG, "debug", event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._log(logging.INFO, "info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._log(logging.WARNING, "warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._log(logging.ERROR, "error", event, fields)

    def _log(self, level: int, method: str, event: str, fields: dict[str, Any]) -> None:
        if not (self._stdlib.isEnabledFor(level) or _structlog_configured()):
            return
        if self._bound is None:
            import structlog

            self._bound = structlog.wrap_logger(
                self._stdlib, wrapper_class=structlog.stdlib.BoundLogger
            )
        getattr(self._bound, method)(event, **fields)


def get_logger(name: str) -> Logger:
    """The logger of module ``name`` (a child of the stdlib logger ``hyperdeme``)."""
    return Logger(name)


def _structlog_configured() -> bool:
    # an application that configured structlog has imported it; a module another thread
    # is importing (a first event logged from a thread) has no is_configured yet
    is_configured = getattr(sys.modules.get("structlog"), "is_configured", None)
    return is_configured is not None and bool(is_configured())


def log_context(**fields: Any) -> contextlib.AbstractContextManager[Any]:
    """Bind ``fields`` to every event logged inside the block (structlog contextvars),
    when anyone can see events at all; a no-op otherwise."""
    structlog = sys.modules.get("structlog")
    if structlog is None:
        return contextlib.nullcontext()
    return structlog.contextvars.bound_contextvars(**fields)  # type: ignore[no-any-return]


@contextmanager
def verbose_output(enabled: bool = True) -> Iterator[None]:
    """While active, print hyperdeme's INFO events to stderr, one human line each."""
    if not enabled:
        yield
        return
    logger = logging.getLogger(ROOT)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.INFO)
    previous = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
