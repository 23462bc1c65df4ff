"""The dashboard: a read-only Starlette application over a :class:`Registry`.

Why Starlette (served by uvicorn, see :mod:`._serve`): both run on anyio, like the
rest of hyperdeme, are small and well kept, and give routing, streaming
responses (the server-sent events that update an open page) and static files;
the standard library's ``http.server`` is threaded and has none of these. Both
are the ``serve`` extra, imported only by ``hyperdeme serve``.

Routes (GET only; nothing writes, no lock is ever taken):

* ``/``: the experiments; ``/experiments/<name>``: one experiment (static pages: their
  script fetches the JSON below and builds the DOM with ``textContent``);
* ``/api/experiments``, ``/api/experiments/<name>``,
  ``/api/experiments/<name>/trials?offset=&limit=&sort=&order=``,
  ``/api/experiments/<name>/trials/<id>``;
* ``/api/experiments/<name>/events``: server-sent events, one each time its journal grew.

Every response carries a strict Content-Security-Policy (scripts and styles from
this server only, no inline script, no frames) and ``Referrer-Policy:
no-referrer`` (the token may be in the address). With a token, every request
must carry it (:class:`TokenGate`); without one, only a loopback ``Host`` is
answered (a web page cannot reach the dashboard through a rebound DNS name).
"""

from __future__ import annotations

import contextlib
import functools
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._follow import Follower
from ._registry import Registry
from ._views import experiment_view, trial_view, trials_page

__all__ = ["COOKIE", "CSP", "create_app"]

STATIC = Path(__file__).parent / "static"
COOKIE = "hyperdeme_token"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: seconds between two looks at a followed journal for the event stream
EVENT_PERIOD = 1.0
#: the most trials one page of the table holds
MAX_LIMIT = 500
LOOPBACK = ["127.0.0.1", "localhost", "::1", "[::1]"]


def create_app(run_path: Path, *, token: str | None) -> Starlette:
    """The dashboard of the experiments under ``run_path``; ``token``: required of every
    request (None: none, which ``hyperdeme serve`` allows on a loopback address only)."""
    registry = Registry(run_path)
    endpoints = _Endpoints(registry)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            registry.start(group)  # every journal read in the background
            yield
            group.cancel_scope.cancel()

    routes = [
        Route("/", _page("index.html")),
        Route("/experiments/{name}", _page("experiment.html")),
        Route("/api/experiments", endpoints.experiments),
        Route("/api/experiments/{name}", endpoints.experiment),
        Route("/api/experiments/{name}/trials", endpoints.trials),
        Route("/api/experiments/{name}/trials/{trial}", endpoints.trial),
        Route("/api/experiments/{name}/events", endpoints.events),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(Headers)]
    if token is None:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK))
    else:
        middleware.append(Middleware(TokenGate, token=token))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={_NotFound: _not_found, _BadQuery: _bad_query},
        lifespan=lifespan,
    )
    app.state.registry = registry
    return app


def _page(file: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return FileResponse(STATIC / file, media_type="text/html")

    return endpoint


class _Endpoints:
    """The API's handlers, over one registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    async def experiments(self, request: Request) -> Response:
        result = []
        for name in self.registry.names():
            follower = await self.registry.get(name)
            if follower is not None:
                result.append(self.registry.summary(follower).to_json())
        return _json({"run_path": str(self.registry.run_path), "experiments": result})

    async def experiment(self, request: Request) -> Response:
        follower = await self._follower(request)
        view = await self.registry.view(follower, experiment_view)
        data = {**view, "summary": self.registry.summary(follower).to_json()}
        return await anyio.to_thread.run_sync(_json, data)  # half a MB: not on the loop

    async def trials(self, request: Request) -> Response:
        follower = await self._follower(request)
        query = request.query_params
        make = functools.partial(
            trials_page,
            offset=_integer(query.get("offset", "0"), "offset", 0, 10**9),
            limit=_integer(query.get("limit", "100"), "limit", 1, MAX_LIMIT),
            sort=query.get("sort", "fom"),
            descending=query.get("order", "asc") == "desc",
        )
        try:
            return _json(await self.registry.view(follower, make))
        except ValueError as error:  # an unknown sort key
            raise _BadQuery(str(error)) from None

    async def trial(self, request: Request) -> Response:
        follower = await self._follower(request)
        trial_id = _integer(request.path_params["trial"], "trial", 0, 10**12)
        found = await self.registry.view(follower, functools.partial(trial_view, trial_id=trial_id))
        if found is None:
            return _json({"error": "no such trial in this experiment"}, status=404)
        return _json(found)

    async def events(self, request: Request) -> Response:
        name = (await self._follower(request)).name
        return StreamingResponse(
            self._stream(name),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store"},
        )

    async def _stream(self, name: str) -> AsyncIterator[str]:
        """One event with the summary each time the journal grew or its reading ended
        (holds no task group)."""
        seen: tuple[int, bool] | None = None
        while True:
            current = await self.registry.get(name)
            if current is None:
                return
            summary = self.registry.summary(current)
            if (current.version, summary.reading) != seen:
                seen = (current.version, summary.reading)
                yield f"data: {json.dumps(summary.to_json())}\n\n"
            else:
                yield ": idle\n\n"  # a comment: keeps proxies and tunnels open
            await anyio.sleep(EVENT_PERIOD)

    async def _follower(self, request: Request) -> Follower:
        follower = await self.registry.get(request.path_params["name"])
        if follower is None:
            raise _NotFound
        return follower


class _NotFound(Exception):
    """No experiment of that name under the run path."""


class _BadQuery(Exception):
    """A query value out of range (the message says which)."""


async def _not_found(request: Request, error: Exception) -> Response:
    return _json({"error": "no experiment of that name under this run path"}, status=404)


async def _bad_query(request: Request, error: Exception) -> Response:
    return _json({"error": str(error)}, status=400)


def _integer(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise _BadQuery(f"{name} must be an integer in [{low}, {high}], got {text[:40]!r}")
    return value


def _json(data: Any, *, status: int = 200) -> Response:
    body = json.dumps(data, allow_nan=False, default=str).encode()
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


class Headers:
    """The security headers, on every response (errors and 401s included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-cache"))  # a new version's script
                message["headers"] = [
                    *headers,
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TokenGate:
    """Answers 401 to a request without the token: ``?token=``, the cookie it sets, or
    ``Authorization: Bearer``. A request carrying it in the address gets the cookie
    (HttpOnly, SameSite=Strict), so the page's own requests and event stream carry it."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        given = request.query_params.get("token")
        header = request.headers.get("authorization", "")
        candidates = [
            given,
            request.cookies.get(COOKIE),
            header[7:] if header.lower().startswith("bearer ") else None,
        ]
        if not any(c is not None and _same(c, self.token) for c in candidates):
            response = Response(
                "401: this dashboard needs its token: open the address `hyperdeme serve` "
                "printed (it ends in ?token=...).\n",
                status_code=401,
                media_type="text/plain",
            )
            await response(scope, receive, send)
            return
        if given is None:
            await self.app(scope, receive, send)
            return
        cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/".encode()

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _same(given: str, token: str) -> bool:
    """Compared in constant time (bytes: a non-ASCII guess is just wrong)."""
    return secrets.compare_digest(given.encode(), token.encode())
