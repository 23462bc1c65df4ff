"""Test doubles for the engine: a launcher driven by a handler, like httpx's MockTransport."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hyperdeme import Exit, Job, Launcher

Handler = Callable[[Job], Awaitable[Exit]]


class FakeLauncher(Launcher):
    """Runs each job by awaiting ``handler(job)``; records every job it was given.

    The handler writes the program's output with ``job.stdout.write(b"FoM: 1\\n")``
    and returns an :class:`Exit`; it may await events the test controls.
    ``running`` is the number of jobs inside the handler right now and
    ``max_running`` the most there ever were at once.
    """

    name = "fake"

    def __init__(self, handler: Handler, *, total_nodes: int | None = None) -> None:
        self.handler = handler
        self.jobs: list[Job] = []
        self.running = 0
        self.max_running = 0
        self.closed = False
        self._total_nodes = total_nodes

    @property
    def total_nodes(self) -> int | None:
        return self._total_nodes

    async def run(self, job: Job) -> Exit:
        self.jobs.append(job)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            return await self.handler(job)
        finally:
            self.running -= 1

    async def aclose(self) -> None:
        self.closed = True


def fom_handler(fom: float = 1.0) -> Handler:
    """A handler whose every job prints ``FoM: <fom>`` and exits 0."""

    async def handler(job: Job) -> Exit:
        job.stdout.write(f"FoM: {fom}\n".encode())
        return Exit(0)

    return handler
