"""``publisher digest …``: preview, test copy, send (with a progress bar), status.

Parse, call one ``app`` function, print. Registered on the main group by
:mod:`publisher.cli`.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from publisher.app import Context
from publisher.cli.options import command_context, site_options
from publisher.errors import OutputError, SendPaused
from publisher.models import audience_categories
from publisher.words import say

__all__ = ["digest"]


@click.group()
def digest() -> None:
    """Preview, test and send the weekly email digest."""


@digest.command()
@click.option(
    "--format", "fmt", type=click.Choice(["html", "text", "eml"]), default="html", show_default=True
)
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of standard output.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the HTML in a browser.")
@click.option(
    "--categories",
    default="",
    help="Preview for subscribers of these categories (comma-separated).",
)
@site_options
def preview(
    site_dir: Path,
    config_file: Path | None,
    now_text: str | None,
    fmt: str,
    output: Path | None,
    open_browser: bool,
    categories: str,
) -> None:
    """Show the next edition as subscribers will get it; sends and records nothing.

    Example:

        publisher digest preview --format html --output next.html
    """
    from publisher.app import preview_digest

    chosen = tuple(c.strip() for c in categories.split(",") if c.strip())
    data = preview_digest(command_context(site_dir, config_file, now_text), fmt, chosen)  # type: ignore[arg-type]
    if open_browser:
        import tempfile
        import webbrowser

        target = output or Path(tempfile.mkstemp(suffix=".html" if fmt == "html" else ".txt")[1])
        _write(target, data)
        webbrowser.open(target.resolve().as_uri())
        click.echo(f"opened {target}")
    elif output:
        _write(output, data)
        click.echo(f"wrote {output}")
    else:
        sys.stdout.buffer.write(data)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from exc


@digest.command()
@click.option("--to", "to", required=True, help="The one address to send the test to.")
@site_options
def test(site_dir: Path, config_file: Path | None, now_text: str | None, to: str) -> None:
    """Send the next edition to one address only, with the headers subscribers get.

    Example:

        publisher digest test --to editor@example.com
    """
    from publisher.app import send_test

    reply = send_test(command_context(site_dir, config_file, now_text), to)
    click.echo(f"sent a test of the next edition to {to}: {reply}")


@digest.command()
@click.option("--dry-run", is_flag=True, help="Show who would get what; send nothing.")
@site_options
def send(site_dir: Path, config_file: Path | None, now_text: str | None, dry_run: bool) -> None:
    """Create the next edition (or resume an unfinished one) and deliver it.

    Exit status 0 when every message was sent or is waiting for a retry, 1 when
    the send paused after too many errors (rerun to resume).

    Example:

        publisher digest send --dry-run
    """
    from publisher.app import send_digest

    ctx = command_context(site_dir, config_file, now_text)
    try:
        with _progress() as update:
            report = send_digest(ctx, on_progress=update, dry_run=dry_run)
    except SendPaused as exc:
        _print_paused(ctx, exc)
        raise SystemExit(1) from exc
    if report.dry_run and report.plan is not None:
        plan = report.plan
        click.echo(
            f"edition {plan.number} would cover {plan.cutoff_from:%Y-%m-%d %H:%M}"
            f" – {plan.cutoff_to:%Y-%m-%d %H:%M}: {len(plan.posts)} posts"
        )
        for post in plan.posts:
            click.echo(f"  {post.date:%Y-%m-%d}  {post.title}")
        for key, count in report.audiences:
            label = ", ".join(audience_categories(key)) or "all categories"
            click.echo(f"  {count} active subscribers choosing {label}")
    click.echo(say(report.key, "en", **report.values))
    if report.counts:
        click.echo("  " + ", ".join(f"{state} {n}" for state, n in sorted(report.counts.items())))
    for item in report.failures:
        click.echo(f"  failed: {item.email}: {item.last_reply}", err=True)
    if report.retry_at is not None:
        when = _local(report.retry_at, ctx)
        click.echo(f"  next retry at {when}: `publisher run` or a worker sends them then")
        click.echo(
            f"  (or run `publisher digest send` again); the server said: {report.retry_reply}"
        )


def _local(moment: datetime, ctx: Context) -> str:
    """A time as people of the site read it: ``2025-11-20 09:15 JST``."""
    return f"{moment.astimezone(ctx.config.site.tz):%Y-%m-%d %H:%M %Z}".strip()


def _print_paused(ctx: Context, exc: SendPaused) -> None:
    from publisher.app import paused_edition

    edition = paused_edition(ctx)
    number = f"edition {edition.number}" if edition else "the send"
    click.echo(f"{number} paused: {exc.reason}", err=True)
    if exc.reply:
        click.echo(f"  the server said: {exc.reply}", err=True)
    if edition is not None and edition.resume_at is not None:
        click.echo(
            f"  next attempt at {_local(edition.resume_at, ctx)} by `publisher run` or a worker;"
            " run `publisher digest send` to try again sooner",
            err=True,
        )


class _progress:
    """A rich progress bar on a terminal; quiet otherwise."""

    def __enter__(self) -> Any:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("sending"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "sent {task.fields[sent]} · failed {task.fields[failed]}"
                " · pending {task.fields[pending]} · {task.fields[rate]}/s"
            ),
            TimeRemainingColumn(),
            disable=not sys.stderr.isatty(),
            console=__import__("rich.console").console.Console(stderr=True),
        )
        self.bar.__enter__()
        self.task = self.bar.add_task("send", total=None, sent=0, failed=0, pending=0, rate=0)
        return self.update

    def update(self, tally: Any, counts: dict[str, int]) -> None:
        import time

        total = sum(counts.values())
        done = counts.get("sent", 0) + counts.get("failed", 0)
        rate = round(tally.sent / max(time.monotonic() - tally.started, 1e-6))
        self.bar.update(
            self.task,
            total=total,
            completed=done,
            sent=counts.get("sent", 0),
            failed=counts.get("failed", 0),
            pending=counts.get("pending", 0) + counts.get("sending", 0),
            rate=rate,
        )

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)


@digest.command()
@site_options
def status(site_dir: Path, config_file: Path | None, now_text: str | None) -> None:
    """List the editions with their delivery counts."""
    from publisher.app import digest_status

    ctx = command_context(site_dir, config_file, now_text)
    rows = digest_status(ctx)
    if not rows:
        click.echo("no edition yet")
    for row in rows:
        e = row.edition
        counts = (
            ", ".join(f"{state} {n}" for state, n in sorted(row.counts.items())) or "no recipients"
        )
        click.echo(
            f"#{e.number}  {e.state:8s}  {e.cutoff_from:%Y-%m-%d} – {e.cutoff_to:%Y-%m-%d}"
            f"  {len(e.post_ids)} posts  {counts}"
        )
        if e.state == "paused":
            click.echo(f"    paused: {e.paused_reason}")
            if e.paused_reply:
                click.echo(f"    the server said: {e.paused_reply}")
            if e.resume_at is not None:
                click.echo(f"    next attempt at {_local(e.resume_at, ctx)}")
        if row.retrying and row.retry_at is not None:
            click.echo(
                f"    {row.retrying} waiting for a retry, the first at {_local(row.retry_at, ctx)};"
                f" the server said: {row.retry_reply}"
            )
