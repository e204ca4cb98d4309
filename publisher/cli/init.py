"""``publisher init``: set publisher up in an existing Jekyll site, and say what to run next."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from publisher.app import InitReport

from publisher.cli.options import site_option, translate_errors

__all__ = ["init"]


@click.command()
@site_option
@click.option("--force", is_flag=True, help="Replace an existing publisher.toml.")
@translate_errors
def init(site_dir: Path, force: bool) -> None:
    """Set publisher up in an existing Jekyll site.

    Reads SITE/_config.yml and the posts, and writes SITE/publisher.toml: the
    settings to look at first, each with its default, and a feed name proposed
    for each category of the posts. Adds the state folder (.publisher/) to
    SITE/.gitignore and publisher.toml to `exclude` in SITE/_config.yml, if
    they are not there, keeping the file's comments and layout. Writes nothing
    outside the site, and never replaces publisher.toml without --force.

    Exit status: 0 done; 1 publisher.toml exists (see --force) or a file cannot
    be written; 2 no _config.yml, or one that cannot be read or edited safely.

    Example:

        publisher init --site ~/blog
    """
    from publisher.app import InitRequest, init_site  # not on every other command's start

    report = init_site(InitRequest(site_dir=site_dir, force=force))
    _print(report, site_dir)


def _print(report: InitReport, site_dir: Path) -> None:
    for path in report.previous:
        if path == report.settings_file:
            click.echo(f"Replaced {path} (--force).")
        else:
            click.echo(f"{path} exists: the new {report.settings_file} takes precedence over it.")
    click.echo(f"Wrote {report.settings_file}: the settings to look at first, with their defaults.")
    _print_categories(report)
    ignore = {
        "created": f"Created {report.gitignore}: it ignores .publisher/.",
        "added": f"Added .publisher/ to {report.gitignore}.",
        "unchanged": f"{report.gitignore} already ignores .publisher/.",
    }
    click.echo(ignore[report.gitignore_state])
    if report.excluded:
        added = ", ".join(report.excluded)
        click.echo(f"Added {added} to exclude in {report.config_file}.")
    elif not report.warnings:
        click.echo(f"{report.config_file} already keeps publisher.toml out of _site/.")
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    site = shlex.quote(str(site_dir))
    click.echo("Next, fill in [digest] from and [web] base_url, then:")
    click.echo(f"  publisher build --site {site}")
    click.echo(f"  publisher digest preview --site {site} --format text")


def _print_categories(report: InitReport) -> None:
    if report.unreadable:
        click.echo(
            f"{_files(report.unreadable)} could not be read (`publisher build` says why);"
            " their categories are not in [categories]."
        )
    if not report.proposals:
        click.echo("No post has a category: [categories] is left empty.")
        return
    ask = [p.name for p in report.proposals if p.slug is None]
    named = len(report.proposals) - len(ask)
    click.echo(f"[categories]: a feed name for {named} of {len(report.proposals)} categories.")
    if ask:
        click.echo(f"  Choose one for: {', '.join(ask)} (the lines are there, commented out).")


def _files(count: int) -> str:
    return "1 post file" if count == 1 else f"{count} post files"
