"""The whole web edge as one ASGI app: the subscriber pages at ``/``, the console at ``/console/``.

``publisher serve`` runs it under uvicorn; tests drive it with Starlette's
TestClient. Shutting the app down stops a console send after its batch.

>>> client = TestClient(application(ctx))            # doctest: +SKIP
>>> client.get("/healthz").text                      # doctest: +SKIP
'ok'
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route

from publisher.app import Context
from publisher.web.console import Console
from publisher.web.edge import Edge
from publisher.web.signup_pages import pages_app, status_page

__all__ = ["application"]


def application(ctx: Context) -> Edge:
    """The subscriber pages and the editors' console, sharing one ``ctx``, inside the web edge
    (:mod:`publisher.web.edge`: body limit, security headers, redirects, forwarded clients)."""
    console = Console(lambda: ctx)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(console.shutdown)  # a send stops after its batch

    async def to_console(request: Request) -> RedirectResponse:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/console/", status_code=308)

    routes = [
        Route("/console", to_console, methods=["GET"]),
        Mount("/console", console.app),
        Mount("/", pages_app(lambda: ctx)),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.router.redirect_slashes = False  # its redirect names the Host header's site
    return Edge(app, lambda: ctx.config.web, lambda status: status_page(ctx, status))
