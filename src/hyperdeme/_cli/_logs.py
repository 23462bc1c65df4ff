"""The command's structlog configuration: hyperdeme's events, observed and shown.

A library never configures structlog; the command, being the application,
does, while it runs: a first processor hands each event's name to a callback
(the progress display counts ``trial.started`` and ``trial.finished``), then
events the stdlib logger would drop are dropped before rendering, then the
processors that were configured before render the rest (warnings reach stderr).
The previous configuration is restored afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

__all__ = ["observe_events"]

#: structlog method name -> stdlib level
_LEVELS = {name.lower(): level for name, level in logging.getLevelNamesMapping().items()} | {
    "exception": logging.ERROR
}


@contextmanager
def observe_events(on_event: Callable[[str], None]) -> Iterator[None]:
    """While active, call ``on_event(name)`` for every structlog event hyperdeme emits."""
    was_configured = structlog.is_configured()
    saved = structlog.get_config()

    def observe(
        logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        on_event(str(event_dict.get("event", "")))
        return event_dict

    def drop_unseen(
        logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        level = _LEVELS.get(method_name, logging.INFO)
        enabled = getattr(logger, "isEnabledFor", None)
        if enabled is not None and not enabled(level):
            raise structlog.DropEvent
        return event_dict

    structlog.configure(processors=[observe, drop_unseen, *saved["processors"]])
    try:
        yield
    finally:
        if was_configured:
            structlog.configure(**saved)
        else:
            structlog.reset_defaults()
