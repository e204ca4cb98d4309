"""``publisher db upgrade``: create the database or migrate it to this version's schema."""

from __future__ import annotations

from pathlib import Path

import click

from publisher.cli.options import command_context, site_options

__all__ = ["db"]


@click.group()
def db() -> None:
    """The database (SQLite in SITE/.publisher/ by default, or [database] url)."""


@db.command()
@site_options
def upgrade(site_dir: Path, config_file: Path | None, now_text: str | None) -> None:
    """Create the database or migrate it to the current schema."""
    from publisher.app import upgrade_database

    revision = upgrade_database(command_context(site_dir, config_file, now_text))
    click.echo(f"database at revision {revision}")
