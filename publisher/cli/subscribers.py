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
    """Add one subscriber (active unless --pending).

    Control characters are dropped from the name. A category no post of the
    site has (nor [categories]) is added all the same, with a warning: no
    mail of it would reach them.
    """
    from publisher.app import add_subscriber
    from publisher.app.subscriber_list import printable, unknown_categories

    ctx = command_context(site_dir, config_file, now_text)
    chosen = tuple(c.strip() for c in categories.split(",") if c.strip())
    sub = add_subscriber(ctx, email, name, chosen, pending)
    click.echo(f"{printable(sub.email)}: {sub.status}")
    for warning in unknown_categories(ctx, dict.fromkeys(sub.categories, 1)):
        click.echo(f"warning: {warning}", err=True)


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
    """List subscribers: email, status, name, categories (tab-separated).

    Control characters, line breaks and bidi overrides are shown escaped
    (\\u001b), so no stored name can drive the terminal.
    """
    from publisher.app import list_subscribers
    from publisher.app.subscriber_list import printable

    for sub in list_subscribers(command_context(site_dir, config_file, now_text), status):  # type: ignore[arg-type]
        cells = (sub.email, sub.status, sub.name, ";".join(sub.categories))
        click.echo("\t".join(printable(cell) for cell in cells))


class _Unusable(click.ClickException):
    """An input file with nothing to import (exit status 2)."""

    exit_code = 2


@subscribers.command("import")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--pending", is_flag=True, help="Import as pending: each must confirm by email.")
@click.option(
    "--encoding",
    default="auto",
    show_default=True,
    help="The file's encoding: auto (a UTF-8 BOM, else UTF-8, else cp932 if the whole file"
    " decodes as it), or a codec such as utf-8, cp932, latin-1.",
)
@site_options
def import_command(
    site_dir: Path,
    config_file: Path | None,
    now_text: str | None,
    csv_file: IO[bytes],
    pending: bool,
    encoding: str,
) -> None:
    """Import subscribers from CSV (email,name,categories,status); bad rows are reported.

    The first line names the columns (at least email; others are ignored,
    with a warning). The encoding is UTF-8, or the Shift-JIS (cp932) of
    Japanese Excel, found by itself (the first line of output says which), or
    --encoding's. Cells may be separated by "," or ";" or tabs; categories by
    ";" or ",". Known addresses are updated; a blank cell keeps what is
    stored. Control characters are dropped from names. A bad row is reported
    with its line and why, and every other row is still imported. Categories
    the site does not have are imported, with a warning.

    Exit status: 0 every row imported; 1 some rows reported and skipped (the
    others were imported); 2 nothing imported: the file is missing,
    unreadable, empty, not in its encoding in its header, or has no email
    column (the error says which columns it found).

    Example:

        publisher subscribers import list.csv
    """
    from publisher.app import import_csv
    from publisher.errors import InputError

    ctx = command_context(site_dir, config_file, now_text)
    try:
        report = import_csv(ctx, csv_file, pending, source=csv_file.name, encoding=encoding)
    except InputError as exc:
        raise _Unusable(str(exc)) from exc
    click.echo(f"read {csv_file.name} as {report.decoding.name}: {report.decoding.reason}")
    click.echo(f"added {report.added}, updated {report.updated}, skipped {report.skipped}")
    for line, reason in report.problems:
        click.echo(f"  line {line}: {reason}", err=True)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
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
