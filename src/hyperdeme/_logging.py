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


def get_logger(name: str) -> Any:
    """A structlog logger writing to the stdlib logger ``name`` (under ``hyperdeme``)."""
    return structlog.wrap_logger(
        logging.getLogger(name), wrapper_class=structlog.stdlib.BoundLogger
    )


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
