"""``publisher bounces read``: record the bounces and complaints in the bounce mailbox."""

from __future__ import annotations

from pathlib import Path

import click

from publisher.cli.options import command_context, site_options

__all__ = ["bounces"]

_SAID = (
    ("bounce", "bounces recorded"),
    ("complaint", "complaints (unsubscribed)"),
    ("delay", "delays (the relay still tries)"),
    ("already", "read before"),
    ("unknown", "about a message no longer in the outbox"),
    ("ignored", "not a report about our mail (moved to [bounces] ignored_folder)"),
)


@click.group()
def bounces() -> None:
    """Mail that came back: the IMAP mailbox of [bounces] (password: PUBLISHER_IMAP_PASSWORD)."""


@bounces.command()
@site_options
@click.option("--dry-run", is_flag=True, help="Read and say what is there; change nothing.")
def read(site_dir: Path, config_file: Path | None, now_text: str | None, dry_run: bool) -> None:
    """Record the bounces and complaints in the bounce mailbox, then file each message.

    A delivery report (RFC 3464) or a complaint (ARF) about one of our
    messages is recorded against that edition's copy for that subscriber: a
    bounce fails it and counts toward [digest] bounce_limit, a complaint
    unsubscribes. Each message is then moved to [bounces] done_folder, or to
    ignored_folder if it is not such a report. `publisher run` does this every
    [bounces] poll_minutes when [bounces] host is set.

    Example:

        publisher bounces read --site examples/site
    """
    from publisher.app import read_bounces

    ctx = command_context(site_dir, config_file, now_text)
    if not ctx.config.bounces.host:
        raise click.UsageError("no bounce mailbox: set [bounces] host (and username)")
    try:
        report = read_bounces(ctx, dry_run=dry_run)
    finally:
        ctx.close()
    lead = "would find" if dry_run else "read"
    click.echo(f"{lead} {report.read} messages" + (":" if report.read else ""))
    for kind, words in _SAID:
        if report.counts.get(kind):
            click.echo(f"  {report.counts[kind]} {words}")
