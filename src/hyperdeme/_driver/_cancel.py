"""``opt.cancel()``: stop a run from any thread, a signal handler or another event loop.

A run registers its cancel scope and a way to call into its loop that is safe
from anywhere: trio's ``TrioToken.run_sync_soon`` (documented safe from
threads and signal handlers) or asyncio's ``loop.call_soon_threadsafe``.
``cancel()`` schedules ``scope.cancel()`` there, so the scope is only ever
touched by its own loop's thread; the run then stops as a Ctrl-C stops it
(evaluations killed with their grace period, journal consistent).

A cancel that comes before the run has registered (``Thread(target=opt.optimize)``
started, then ``opt.cancel()`` at once) is kept and stops the run as soon as it
starts; the run consumes it. Hand-written: anyio's ``from_thread`` calls wait
for the loop and refuse the loop's own thread, so they cannot serve a signal
handler.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import anyio

__all__ = ["Canceller"]


class Canceller:
    """One optimizer's stop switch (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requested = False
        self._scope: anyio.CancelScope | None = None
        self._call_soon: Callable[[Callable[[], object]], object] | None = None

    def cancel(self) -> None:
        """Stop the current run (or the next one to start); safe from any thread."""
        with self._lock:
            self._requested = True
            scope, call_soon = self._scope, self._call_soon
        if scope is not None and call_soon is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: it is over
                call_soon(scope.cancel)

    @contextmanager
    def scope(self) -> Iterator[anyio.CancelScope]:
        """The run's cancel scope, registered for :meth:`cancel` while inside."""
        with anyio.CancelScope() as scope:
            call_soon = _threadsafe_call_soon()
            with self._lock:
                self._scope, self._call_soon = scope, call_soon
                if self._requested:
                    scope.cancel()
            try:
                yield scope
            finally:
                with self._lock:
                    self._scope = self._call_soon = None
                    self._requested = False


def _threadsafe_call_soon() -> Callable[[Callable[[], object]], object]:
    """The running loop's thread- and signal-safe "call this soon" (trio or asyncio)."""
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            return trio.lowlevel.current_trio_token().run_sync_soon  # type: ignore[no-any-return]
        except RuntimeError:
            pass
    import asyncio  # a loop runs, so it is imported already

    return asyncio.get_running_loop().call_soon_threadsafe
