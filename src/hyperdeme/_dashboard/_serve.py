"""Running the dashboard: uvicorn on a socket bound here (so ``--port 0`` can say which
port it got, and a port in use is said before anything starts)."""

from __future__ import annotations

import socket
from pathlib import Path

__all__ = ["bind", "run"]


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (raises the OSError of the bind)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host.strip("[]"), port), family=family)


def run(run_path: Path, *, sock: socket.socket, token: str | None) -> None:
    """Serve the dashboard of ``run_path`` on ``sock`` until SIGINT or SIGTERM."""
    import uvicorn

    from ._app import create_app

    config = uvicorn.Config(
        create_app(run_path, token=token),
        log_level="warning",
        lifespan="on",  # reads every journal in the background from the start (Registry.start)
        timeout_graceful_shutdown=2,  # open event streams end then, not never
    )
    uvicorn.Server(config).run(sockets=[sock])
