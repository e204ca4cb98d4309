"""``publisher subscribers …``: the operator's list (add, remove, list, import, export)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import click

from publisher.cli.options import command_context, site_options
from publisher.models import SUBSCRIBER_STATUSES

__all__ = ["subscribers"]


@click.group()
def subscribers() -> None:
    """Manage the subscriber list."""


@subscribers.command("add")
@click.argument("email")
@click.option("--name", default="", help="The subscriber's name.")
@click.option(
    "--categories", default="", help="Only these categories (comma-separated); default all."
)
@click.option("--pending", is_flag=True, help="Add as pending: they must confirm by email.")
@site_options
def add_command(
    site_dir: Path,
    config_file: Path | None,
    now_text: str | None,
    email: str,
    name: str,
    categories: str,
    pending: bool,
) -> None:
    """Add one subscriber (active unless --pending)."""
    from publisher.app import add_subscriber

    chosen = tuple(c.strip() for c in categories.split(",") if c.strip())
    sub = add_subscriber(
        command_context(site_dir, config_file, now_text), email, name, chosen, pending
    )
    click.echo(f"{sub.email}: {sub.status}")


@subscribers.command("remove")
@click.argument("email")
@site_options
def remove_command(
    site_dir: Path, config_file: Path | None, now_text: str | None, email: str
) -> None:
    """Delete a subscriber and everything still queued for them."""
    from publisher.app import remove_subscriber

    if not remove_subscriber(command_context(site_dir, config_file, now_text), email):
        raise click.ClickException(f"{email}: no such subscriber")
    click.echo(f"removed {email}")


@subscribers.command("list")
@click.option("--status", type=click.Choice(SUBSCRIBER_STATUSES))
@site_options
def list_command(
    site_dir: Path, config_file: Path | None, now_text: str | None, status: str | None
) -> None:
    """List subscribers: email, status, name, categories."""
    from publisher.app import list_subscribers

    for sub in list_subscribers(command_context(site_dir, config_file, now_text), status):  # type: ignore[arg-type]
        click.echo(f"{sub.email}\t{sub.status}\t{sub.name}\t{';'.join(sub.categories)}")


class _Unusable(click.ClickException):
    """An input file with nothing to import (exit status 2)."""

    exit_code = 2


@subscribers.command("import")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--pending", is_flag=True, help="Import as pending: each must confirm by email.")
@site_options
def import_command(
    site_dir: Path,
    config_file: Path | None,
    now_text: str | None,
    csv_file: IO[bytes],
    pending: bool,
) -> None:
    """Import subscribers from CSV (email,name,categories,status); bad rows are reported.

    The first line names the columns (at least email; others are ignored).
    The file must be UTF-8: from Excel, save it as "CSV UTF-8 (Comma
    delimited)". Cells may be separated by "," or ";" or tabs; categories by
    ";" or ",". Known addresses are updated; a blank cell keeps what is
    stored. Control characters are dropped from names. A bad row is reported
    with its line and why, and every other row is still imported.

    Exit status: 0 every row imported; 1 some rows reported and skipped (the
    others were imported); 2 nothing imported: the file is missing,
    unreadable, empty, not UTF-8 in its header, or has no email column.

    Example:

        publisher subscribers import list.csv
    """
    from publisher.app import import_csv
    from publisher.errors import InputError

    ctx = command_context(site_dir, config_file, now_text)
    try:
        report = import_csv(ctx, csv_file, pending, source=csv_file.name)
    except InputError as exc:
        raise _Unusable(str(exc)) from exc
    click.echo(f"added {report.added}, updated {report.updated}, skipped {report.skipped}")
    for line, reason in report.problems:
        click.echo(f"  line {line}: {reason}", err=True)
    if report.problems:
        raise SystemExit(1)


@subscribers.command("export")
@click.argument("csv_file", type=click.File("w", encoding="utf-8"), default="-")
@site_options
def export_command(
    site_dir: Path, config_file: Path | None, now_text: str | None, csv_file: IO[str]
) -> None:
    """Export every subscriber as CSV (to standard output by default).

    Columns email,name,categories,status, as import reads them. A cell that
    starts with = + - or @ is written with a leading ' so that a spreadsheet
    shows it as text instead of running it as a formula (CSV injection);
    import takes that ' off again.
    """
    from publisher.app import export_csv

    count = export_csv(command_context(site_dir, config_file, now_text), csv_file)
    click.echo(f"exported {count} subscribers", err=True)
