"""``publisher serve``: the subscriber pages (subscribe, confirm, unsubscribe) over HTTP.

The CLI launches every edge, so it is the one layer above ``publisher.web``
(see the import-linter contract); the pages themselves only call ``app``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import click

from publisher import app
from publisher.app.context import Context
from publisher.cli.logs import setup_logging
from publisher.cli.options import site_options, verbose

__all__ = ["application", "serve"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port."
)
@site_options
def serve(
    site_dir: Path, config_file: Path | None, now_text: str | None, host: str, port: int
) -> None:
    """Serve the subscriber pages and the editors' console over HTTP.

    Subscribe, confirm, unsubscribe (with RFC 8058 one-click) and preferences.
    Links in mails point at [web] base_url; put a TLS proxy in front of this
    server at that address. It listens on 127.0.0.1 unless --host says otherwise.
    The editors' console (/console/: preview, test, send now, progress) is on
    when PUBLISHER_CONSOLE_PASSWORD is set (HTTP Basic auth, any user name).

    Example:

        publisher serve --site examples/site --port 8000
    """
    import uvicorn

    ctx = Context(site_dir=site_dir, config_file=config_file)
    if now_text:
        ctx.now = app.parse_time(now_text, ctx.config)
    # Open the database and read the secret now: a bad setting stops the
    # command with its message instead of failing the first request.
    _ = ctx.engine, ctx.secret
    links = ctx.config.web.base_url
    click.echo(f"serving {ctx.config.site.title} on http://{host}:{port} (links: {links})")
    if ctx.environ.get("PUBLISHER_CONSOLE_PASSWORD"):
        click.echo(f"editors' console: http://{host}:{port}/console/")
    setup_logging(verbose())
    # log_config=None: uvicorn's loggers go through ours (one line an error unless -v).
    uvicorn.run(application(ctx), host=host, port=port, log_level="info", log_config=None)


def application(ctx: Context) -> Any:
    """The subscriber pages at ``/`` and the editors' console at ``/console/``, on one ``ctx``."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import RedirectResponse
    from starlette.routing import Mount, Route

    from publisher.console import Console
    from publisher.web import create_app

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
        Mount("/", create_app(lambda: ctx)),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
