"""``publisher run`` (keep the feeds fresh, send the digest on time) and ``publisher schedule``.

The CLI launches every edge, so it is the one layer above ``publisher.scheduler``;
the scheduler itself only calls ``app``.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from publisher.app import Context
from publisher.cli.logs import setup_logging
from publisher.cli.options import command_context, output_option, site_options, verbose
from publisher.config import resolve_output

__all__ = ["run", "schedule"]


@click.command()
@site_options
@output_option
@click.option(
    "--no-wait",
    is_flag=True,
    help="If another runner holds the database, exit with status 1 instead of standing by.",
)
def run(
    site_dir: Path,
    config_file: Path | None,
    now_text: str | None,
    output_dir: Path | None,
    no_wait: bool,
) -> None:
    """Keep the feeds fresh and send the weekly digest on time, until stopped.

    Rebuilds the feeds when a post file is added, changed or removed, when a
    future-dated post falls due, and every [run] rebuild_minutes. Sends the
    digest on [digest] schedule in the site's timezone (a send missed while
    the machine was down goes out once on start, within misfire_grace_hours),
    and retries deliveries when their backoff ends. Logs one line per job run.

    One runner per database: a second one stands by (it logs who holds the
    lock and runs no job) and takes over within about [run] lock_seconds once
    that runner stops or dies; --no-wait makes it refuse instead. SIGTERM or
    Ctrl-C stops it cleanly, standing by or not.

    Example:

        publisher run --site examples/site
    """
    if now_text:
        raise click.UsageError("`publisher run` follows the real clock; --now is for previews")
    from publisher.scheduler import Runner

    setup_logging(verbose())
    # long-running: it brings the schema up to date at start
    ctx = Context(site_dir=site_dir, config_file=config_file, migrate=True)
    output_dir = resolve_output(ctx.config, site_dir, output_dir)
    runner = Runner(ctx, output_dir)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: _set_soon(runner.stop))
    try:
        _ = ctx.engine  # a bad database setting stops here, with its message
        click.echo(f"publisher run: {ctx.config.site.title}; feeds in {output_dir}", err=True)
        runner.run_forever(wait=not no_wait)
    finally:
        ctx.close()
    if runner.lost_lock:  # a supervisor's Restart=on-failure starts it again, as a standby
        raise click.ClickException("another runner took over the lock; this one stopped")
    click.echo("publisher run: stopped", err=True)


def _set_soon(event: threading.Event) -> None:
    """Set ``event`` from a signal handler, in a thread of its own.

    The signal may arrive while the main thread holds the event's internal lock
    (it waits on the event while standing by): setting it there would deadlock.
    """
    threading.Thread(target=event.set, daemon=True).start()


@click.command()
@site_options
def schedule(site_dir: Path, config_file: Path | None, now_text: str | None) -> None:
    """Show when each job of `publisher run` runs next.

    Example:

        publisher schedule --site examples/site
    """
    from publisher.app import schedule_overview

    ctx = command_context(site_dir, config_file, now_text)
    try:
        rows = schedule_overview(ctx)
    finally:
        ctx.close()
    for row in rows:
        when = row.next_at.strftime("%Y-%m-%d %H:%M %z") if row.next_at else "-"
        click.echo(f"{row.job:8s} {when:22s} {row.detail}")
