"""``hyperdeme serve``: the checks before the dashboard starts, and its address.

A loopback address (the default, 127.0.0.1) serves without a token: only this
machine's users reach it (over ``ssh -L`` from elsewhere). Any other address
needs ``--token``: given (16 characters at least) or, ``--token`` alone,
generated and printed; every request must then carry it. Refused before
anything listens: another address without a token, a short token, a port in
use, a run path holding no experiments, the ``serve`` extra missing.
"""

from __future__ import annotations

import ipaddress
import secrets
import sys
from pathlib import Path
from typing import TextIO

from .._dashboard._scan import experiment_dirs
from ._errors import UsageProblem

__all__ = ["is_loopback", "serve"]

MIN_TOKEN = 16


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and the loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(run_path: Path, *, host: str, port: int, token: str | None, out: TextIO) -> None:
    """Check, bind, print the address, and serve until interrupted."""
    if token == "":  # --token without a value
        token = secrets.token_urlsafe(24)
    if token is None and not is_loopback(host):
        raise UsageProblem(
            f"--host {host} is not a loopback address: anyone who reaches it could read "
            "the experiments, so it needs a token: add --token (one is generated and "
            "printed) or --token <at least 16 characters>; or keep the default "
            "127.0.0.1 and use an SSH tunnel (ssh -L 8080:localhost:8080 <host>)."
        )
    if token is not None and len(token) < MIN_TOKEN:
        raise UsageProblem(
            f"--token must have at least {MIN_TOKEN} characters, got {len(token)}; "
            "give --token alone to have one generated."
        )
    if not 0 <= port <= 65535:
        raise UsageProblem(f"--port must be in [0, 65535], got {port}.")
    if not experiment_dirs(run_path) and not run_path.is_dir():
        raise UsageProblem(
            f"{run_path} is not a directory; give the run path `hyperdeme run` writes to "
            "(evaluator.run_path, default 'run')."
        )
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401

        from .._dashboard._serve import bind, run
    except ImportError as error:
        raise UsageProblem(
            f"hyperdeme serve needs the serve extra (Starlette and uvicorn), and {error.name} "
            "is not installed: pip install 'hyperdeme[serve]'."
        ) from None
    try:
        sock = bind(host, port)
    except OSError as error:
        raise UsageProblem(
            f"cannot listen on {host}:{port}: {error.strerror or error}; choose another "
            "--port (0: any free one) or --host."
        ) from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    address = f"http://{shown}:{bound}/" + (f"?token={token}" if token else "")
    print(f"hyperdeme serve: {run_path} at {address} (read-only; Ctrl-C stops it)", file=out)
    out.flush()
    sys.stdout.flush()
    run(run_path, sock=sock, token=token)
