"""``publisher serve``: the subscriber pages (subscribe, confirm, unsubscribe) over HTTP.

The CLI launches every edge, so it is the one layer above ``publisher.web``
(see the import-linter contract); the pages themselves only call ``app``.
"""

from __future__ import annotations

from pathlib import Path

import click

from publisher.app import console_configured
from publisher.cli.logs import setup_logging
from publisher.cli.options import command_context, site_options, verbose

__all__ = ["serve"]


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
    when its password is set: PUBLISHER_CONSOLE_PASSWORD_HASH or [console]
    password_hash (make it with `publisher console hash-password`); editors
    log in on its page.

    Example:

        publisher serve --site examples/site --port 8000
    """
    import uvicorn

    # long-running: it brings the schema up to date at start
    ctx = command_context(site_dir, config_file, now_text, migrate=True)
    # Open the database and read the secret now: a bad setting stops the
    # command with its message instead of failing the first request.
    _ = ctx.engine, ctx.secret
    links = ctx.config.web.base_url
    click.echo(f"serving {ctx.config.site.title} on http://{host}:{port} (links: {links})")
    if console_configured(ctx):
        click.echo(f"editors' console: http://{host}:{port}/console/")
    setup_logging(verbose())
    # log_config=None: uvicorn's loggers go through ours (one line an error unless -v).
    from publisher.web import application

    # proxy_headers=False: only [web] trusted_proxies decide whom X-Forwarded-For is believed from.
    uvicorn.run(
        application(ctx),
        host=host,
        port=port,
        log_level="info",
        log_config=None,
        proxy_headers=False,
    )
