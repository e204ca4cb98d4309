"""``publisher check``: what a post generator left in the posts, like ``jekyll doctor``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from publisher import app
from publisher.cli.options import parse_now, site_options
from publisher.config import load_settings

__all__ = ["check"]


@click.command()
@site_options
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("--strict", is_flag=True, help="Exit with status 2 when anything is found.")
@click.option(
    "--fix",
    is_flag=True,
    help="Show, as a diff, each file without its marker lines, exact repeats and title line.",
)
@click.option(
    "--write",
    is_flag=True,
    help="With --fix: rewrite the files, keeping the old ones in the state folder"
    " (.publisher/backups/check-TIME/, which Jekyll never publishes).",
)
def check(
    site_dir: Path,
    config_file: Path | None,
    now_text: str | None,
    as_json: bool,
    strict: bool,
    fix: bool,
    write: bool,
) -> None:
    """Report what a post generator left in the posts, one line each: PATH:LINE: KIND: MESSAGE.

    Kinds: marker, replacement-character, control-character, cut-off, repeat,
    near-repeat, title-line, excerpt, unknown-key, no-category, dead-link,
    image-alt, date-mismatch, unreadable (README: publisher check). Nothing
    is changed unless --fix --write is given.

    Exit status: 0 nothing found; 1 something found (2 with --strict); 2 the
    settings or options are invalid.

    Example:

        publisher check --site examples/site
    """
    if write and not fix:
        raise click.UsageError("--write rewrites the files --fix shows: give both")
    settings = load_settings(site_dir, config_file)
    now = parse_now(now_text, settings) if now_text else None
    request = app.CheckRequest(site_dir=site_dir, settings=settings, now=now, fix=fix, write=write)
    report = app.check_site(request)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print(report)
    raise SystemExit(report.exit_code(strict))


def _print(report: app.CheckReport) -> None:
    for finding in report.findings:
        click.echo(str(finding))
    if report.aborted:  # the posts folder itself: the line above says why, nothing was checked
        return
    for fix in report.fixes:
        click.echo(fix.diff, nl=False)
        if fix.backup:
            click.echo(f"wrote {fix.path} (the old file is {fix.backup})", err=True)
    counts = report.counts()
    posts = len({f.path for f in report.findings})
    detail = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    found = (
        f"{len(report.findings)} findings in {posts} posts ({detail})"
        if counts
        else "nothing found"
    )
    click.echo(f"Checked {report.files} post files: {found}.", err=True)
    if report.backups:
        click.echo(f"The old files are kept in {report.backups}/ (never published).", err=True)
