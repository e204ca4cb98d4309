"""Use case: build the feeds.

``build_feeds`` reads the site, plans the feeds, renders the bodies the
planned feeds need, and writes what changed. Decisions are made by the pure
stages; this module wires them together and does the I/O last.

>>> report = build_feeds(BuildRequest(site_dir=Path("examples/site")))   # doctest: +SKIP
>>> report.exit_code, report.written[:1]                                  # doctest: +SKIP
(1, ('feeds/atom.xml',))
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from publisher.config import Settings, load_settings
from publisher.content import ReadResult, read_posts
from publisher.content.bodies import render_bodies
from publisher.content.cache import HtmlCache
from publisher.feeds import FeedPlan, Manifest, plan_feeds, plan_key, render_feed
from publisher.files import write_if_changed
from publisher.models import Post, Problem

__all__ = ["BuildReport", "BuildRequest", "build_feeds", "load_site_settings", "parse_time"]


@dataclass(frozen=True)
class BuildRequest:
    """What to build: the site, where to, as of when, and how strictly."""

    site_dir: Path = Path()
    output_dir: Path = Path("output")
    config_file: Path | None = None
    now: datetime | None = None
    strict: bool = False
    settings: Settings | None = None


@dataclass(frozen=True)
class BuildReport:
    """What one build did; ``exit_code`` is 0 (clean), 1 (problems reported) or 2 (nothing)."""

    files: int
    published: int
    scheduled: int
    drafts: int
    parsed: int
    rendered: int
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]
    problems: tuple[Problem, ...]
    next_due: datetime | None
    aborted: bool = False
    output_dir: str = ""

    @property
    def exit_code(self) -> int:
        if self.aborted or (self.published == 0 and self.problems):
            return 2
        return 1 if self.problems else 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for ``--json``."""
        return {
            "exit_code": self.exit_code,
            "output_dir": self.output_dir,
            "posts": {
                "files": self.files,
                "published": self.published,
                "scheduled": self.scheduled,
                "drafts": self.drafts,
                "parsed": self.parsed,
                "rendered": self.rendered,
            },
            "feeds": {
                "written": list(self.written),
                "unchanged": list(self.unchanged),
                "removed": list(self.removed),
            },
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "aborted": self.aborted,
            "problems": [
                {"path": p.path, "line": p.line, "reason": p.reason} for p in self.problems
            ],
        }


def load_site_settings(site_dir: Path, config_file: Path | None = None) -> Settings:
    """Settings for the site at ``site_dir`` (see :func:`publisher.config.load_settings`)."""
    return load_settings(site_dir, config_file)


def build_feeds(request: BuildRequest) -> BuildReport:
    """Read the posts and write every feed whose bytes changed."""
    settings = request.settings or load_settings(request.site_dir, request.config_file)
    now = request.now or datetime.now(UTC)
    var = Path(settings.paths.var) / "cache"
    output_dir = request.output_dir.resolve()
    read = read_posts(request.site_dir, settings, now, cache_file=var / "posts.json")
    plans, plan_problems = plan_feeds(read.posts, settings)
    manifest = Manifest.load(var / "feeds.json")
    fingerprint = settings.fingerprint()
    keys = {plan.path: plan_key(plan, fingerprint) for plan in plans}
    stale = [p for p in plans if not manifest.is_current(output_dir / p.path, keys[p.path])]
    html_cache = HtmlCache(var / "html", fingerprint)
    needed = _posts_needing_bodies(stale, settings)
    html, body_problems = render_bodies(needed, settings, html_cache)
    problems = read.problems + tuple(plan_problems) + tuple(body_problems)
    report = _report(read, problems, output_dir, rendered=len(needed))
    if (request.strict and problems) or (not read.posts and read.problems):
        return replace(report, aborted=bool(request.strict and problems))
    written, unchanged = _write(plans, stale, keys, html, settings, output_dir, manifest)
    removed = _remove_orphans(manifest, plans, output_dir)
    manifest.save()
    if stale:
        html_cache.prune(_posts_needing_bodies(plans, settings))
    return replace(report, written=written, unchanged=unchanged, removed=removed)


def _posts_needing_bodies(plans: list[FeedPlan], settings: Settings) -> list[Post]:
    if settings.feeds.content != "full":
        return []
    unique: dict[str, Post] = {}
    for plan in plans:
        for post in plan.posts:
            unique.setdefault(post.id, post)
    return list(unique.values())


def _write(
    plans: list[FeedPlan],
    stale: list[FeedPlan],
    keys: dict[str, str],
    html: dict[str, str],
    settings: Settings,
    output_dir: Path,
    manifest: Manifest,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    written: list[str] = []
    unchanged = [p.path for p in plans if p not in stale]
    for plan in stale:
        target = output_dir / plan.path
        if write_if_changed(target, render_feed(plan, html, settings)):
            written.append(plan.path)
        else:
            unchanged.append(plan.path)
        manifest.record(target, keys[plan.path])
    if settings.feeds.stylesheet and any(p.format == "atom" for p in plans):
        xsl = resources.files("publisher.feeds").joinpath("feed.xsl").read_bytes()
        relative = f"{settings.feeds.dir}/feed.xsl"
        (written if write_if_changed(output_dir / relative, xsl) else unchanged).append(relative)
    return tuple(written), tuple(sorted(unchanged))


def _remove_orphans(manifest: Manifest, plans: list[FeedPlan], output_dir: Path) -> tuple[str, ...]:
    keep = {output_dir / plan.path for plan in plans}
    removed: list[str] = []
    for path in manifest.orphans(output_dir, keep):
        path.unlink(missing_ok=True)
        manifest.forget(path)
        removed.append(path.relative_to(output_dir).as_posix())
    return tuple(removed)


def _report(
    read: ReadResult, problems: tuple[Problem, ...], output_dir: Path, rendered: int
) -> BuildReport:
    return BuildReport(
        files=read.files,
        published=len(read.posts),
        scheduled=len(read.scheduled),
        drafts=read.drafts,
        parsed=read.parsed,
        rendered=rendered,
        written=(),
        unchanged=(),
        removed=(),
        problems=problems,
        next_due=read.scheduled[0].date if read.scheduled else None,
        output_dir=str(output_dir),
    )


def parse_time(text: str, settings: Settings) -> datetime:
    """A ``--now`` value: ISO 8601 or Jekyll's form; no offset means the site's timezone.

    >>> parse_time("2025-09-21 09:00", settings).isoformat()     # doctest: +SKIP
    '2025-09-21T09:00:00+09:00'
    """
    from publisher.content.dates import parse_date
    from publisher.errors import ConfigError

    try:
        return parse_date(text, settings.site.tz)
    except ValueError as exc:
        raise ConfigError("--now", str(exc)) from exc
