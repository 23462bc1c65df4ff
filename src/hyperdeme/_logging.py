"""hyperdeme's logging: structlog events routed through the stdlib ``hyperdeme`` logger.

A library must not configure logging for its users, and must stay quiet at
INFO unless asked. Events are structlog events with stable names
(``trial.started``, ``trial.finished``, ``trial.retry`` ...) processed by the
application's structlog configuration (so ``structlog.testing.capture_logs``
sees them), then handed to the stdlib logger ``hyperdeme.<module>``, which
prints nothing below WARNING until the application or ``verbose=True`` adds
a handler.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

__all__ = ["get_logger", "verbose_output"]

ROOT = "hyperdeme"


class _BoundLogger(structlog.stdlib.BoundLogger):
    """Skips the processor chain for events nobody will see.

    When the application has not configured structlog, an event the stdlib
    logger would drop costs a level check instead of a rendering: logging
    must add nothing measurable to the scheduler's hot path.
    """

    def _proxy_to_logger(
        self, method_name: str, event: str | None = None, *event_args: str, **event_kw: Any
    ) -> Any:
        level = _LEVELS.get(method_name, logging.INFO)
        if not structlog.is_configured() and not self._logger.isEnabledFor(level):
            return None
        return super()._proxy_to_logger(method_name, event, *event_args, **event_kw)


_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
}


def get_logger(name: str) -> Any:
    """A structlog logger writing to the stdlib logger ``name`` (under ``hyperdeme``)."""
    return structlog.wrap_logger(logging.getLogger(name), wrapper_class=_BoundLogger)


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
