"""The ``publisher`` command: parse options, call one ``app`` function, print the result.

Errors from the core (:class:`~publisher.errors.PublisherError`) are turned
into a message and an exit status here, and nowhere else.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import click

from publisher import __version__, app
from publisher.cli.options import output_option, parse_now, site_options
from publisher.config import load_settings

__all__ = ["main"]

SHOWN = 10


class _LazyGroup(click.Group):
    """The ``publisher`` group: each subcommand's module is imported when it is used.

    ``publisher build`` then loads none of the other commands (nor what they
    import): it runs on every change of a site, and its start-up is part of
    every warm rebuild.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        home = _LAZY.get(cmd_name)
        if home is None:
            return super().get_command(ctx, cmd_name)
        module, _, attr = home.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command


_LAZY = {
    "bounces": "publisher.cli.bounces:bounces",
    "check": "publisher.cli.check:check",
    "console": "publisher.cli.console:console",
    "db": "publisher.cli.db:db",
    "digest": "publisher.cli.digest:digest",
    "init": "publisher.cli.init:init",
    "run": "publisher.cli.run:run",
    "schedule": "publisher.cli.run:schedule",
    "serve": "publisher.cli.serve:serve",
    "subscribers": "publisher.cli.subscribers:subscribers",
    "worker": "publisher.cli.worker:worker",
}
"""Subcommands by name: where each lives."""


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="publisher")
@click.option("-v", "--verbose", is_flag=True, help="Show the traceback of an error, too.")
def main(verbose: bool) -> None:
    """Atom feeds and weekly email digests for Jekyll-style blogs.

    Exit status: 0 done; 1 done in part, or stopped by a fault it names (a
    broken post, a relay that refused, a database that cannot be reached);
    2 bad settings or options (nothing was done); 70 a bug in publisher.
    """


@main.command()
@site_options
@output_option
@click.option(
    "--strict", is_flag=True, help="Treat any problem or warning as fatal: write nothing."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def build(
    site_dir: Path,
    config_file: Path | None,
    now_text: str | None,
    output_dir: Path | None,
    strict: bool,
    as_json: bool,
) -> None:
    """Write the site, category and tag feeds of a Jekyll site.

    Reads SITE/_config.yml and SITE/_posts/, and writes OUTPUT/feeds/atom.xml
    (with rss.xml and feed.json twins), OUTPUT/feeds/categories/SLUG.xml and
    OUTPUT/feeds/tags/SLUG.xml. Only files whose bytes change are rewritten.

    Exit status: 0 all posts published; 1 some posts reported (the rest are
    still published); 2 nothing could be published, or the settings are invalid.

    Example:

        publisher build --site examples/site
    """
    settings = load_settings(site_dir, config_file)
    now = parse_now(now_text, settings) if now_text else None
    report = app.build_feeds(
        app.BuildRequest(
            site_dir=site_dir, output_dir=output_dir, now=now, strict=strict, settings=settings
        )
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    raise SystemExit(report.exit_code)


def _print_report(report: app.BuildReport) -> None:
    parts = [f"{report.published} published"]
    if report.scheduled:
        due = report.next_due.isoformat() if report.next_due else "?"
        parts.append(f"{report.scheduled} scheduled (next at {due})")
    if report.drafts:
        parts.append(f"{report.drafts} unpublished")
    parts.append(f"{len(report.problems)} with problems")
    if report.warnings:
        parts.append(f"{len(report.warnings)} published with warnings")
    click.echo(f"Read {report.files} post files: " + ", ".join(parts) + ".")
    if report.aborted:
        click.echo("--strict: nothing was written because of the problems or warnings below.")
    elif report.published == 0 and report.problems:
        click.echo("Nothing could be published; no feed was written.")
    else:
        feeds = Path(report.output_dir)
        click.echo(
            f"Feeds in {feeds}: {len(report.written)} written, "
            f"{len(report.unchanged)} unchanged, {len(report.removed)} removed."
        )
        for path in report.written[:SHOWN]:
            click.echo(f"  wrote {feeds / path}")
        if len(report.written) > SHOWN:
            click.echo(f"  … and {len(report.written) - SHOWN} more (--json lists them all)")
    hint = app.check_hint(report.leftovers)
    if hint:
        click.echo(hint)
    for title, found in (("Problems:", report.problems), ("Warnings:", report.warnings)):
        if found:
            click.echo(title, err=True)
            for problem in found:
                click.echo(f"  {problem}", err=True)
