"""Use case: build the feeds.

``build_feeds`` reads the site, plans the feeds, renders the bodies the
planned feeds need, and writes what changed. Decisions are made by the pure
stages; this module wires them together and does the I/O last.

>>> report = build_feeds(BuildRequest(site_dir=Path("examples/site")))   # doctest: +SKIP
>>> report.exit_code, report.written[:1]                                  # doctest: +SKIP
(1, ('feeds/atom.xml',))
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from publisher.config import Settings, load_settings, resolve_output
from publisher.content import ReadResult, list_posts, read_posts
from publisher.content.cache import HtmlCache
from publisher.content.parallel import map_work
from publisher.content.tally import tally_posts
from publisher.errors import OutputError
from publisher.feeds import FeedPlan, Manifest, plan_feeds, plan_key, render_feed
from publisher.files import private_dir, template_folder, write_atomic, write_if_changed
from publisher.models import Post, Problem

# Below this many feeds to write, starting worker processes costs more than it saves.
PARALLEL_FEEDS = 16

__all__ = ["BuildReport", "BuildRequest", "build_feeds", "check_hint"]

log = logging.getLogger("publisher.build")


@dataclass(frozen=True)
class BuildRequest:
    """What to build: the site, where to, as of when, and how strictly."""

    site_dir: Path = Path()
    output_dir: Path | None = None
    """Relative: to the site folder; None: ``[paths] output`` (the site folder by default)."""
    config_file: Path | None = None
    now: datetime | None = None
    strict: bool = False
    settings: Settings | None = None


@dataclass(frozen=True)
class BuildReport:
    """What one build did; ``exit_code`` is 0 (clean), 1 (problems reported) or 2 (nothing).

    ``warnings`` are posts published after something in them was mended: they
    leave the exit code 0, unless the build was ``strict``.
    """

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
    warnings: tuple[Problem, ...] = ()
    leftovers: dict[str, int] = field(default_factory=dict)
    """Posts (published or scheduled) with generation markers or broken characters, by kind
    (see :mod:`publisher.content.tally`): the build only counts them; ``publisher check`` tells."""

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
            "warnings": [
                {"path": p.path, "line": p.line, "reason": p.reason} for p in self.warnings
            ],
            "check": dict(self.leftovers),
        }


class _LastBuild(msgspec.Struct, frozen=True):
    """What the previous build saw and reported, to recognise an unchanged site."""

    listing: str
    output_dir: str
    next_due: datetime | None
    files: int
    published: int
    scheduled: int
    drafts: int
    outputs: tuple[str, ...]
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()
    leftovers: dict[str, int] = {}


def check_hint(leftovers: dict[str, int]) -> str:
    """The build's one line about what ``publisher check`` would report ("" when nothing).

    Counted over the posts the feeds show (what readers see); ``check`` reads them all.

    >>> check_hint({"marker": 3})
    '3 posts in the feeds have generation markers: run `publisher check`'
    """
    parts = []
    for kind, what in _HINTS:
        count = leftovers.get(kind, 0)
        if count:
            verb = "post in the feeds has" if count == 1 else "posts in the feeds have"
            parts.append(f"{count} {verb} {what}")
    return ", ".join(parts) + ": run `publisher check`" if parts else ""


_HINTS = (
    ("marker", "generation markers"),
    ("replacement-character", "U+FFFD (text lost in decoding)"),
    ("control-character", "control characters"),
)


def build_feeds(request: BuildRequest) -> BuildReport:
    """Read the posts and write every feed whose bytes changed."""
    settings = request.settings or load_settings(request.site_dir, request.config_file)
    now = request.now or datetime.now(UTC)
    var = private_dir(Path(settings.paths.var)) / "cache"
    output_dir = resolve_output(settings, request.site_dir, request.output_dir)
    listing = list_posts(request.site_dir, settings)
    signature = _signature(listing, settings, output_dir)
    manifest = Manifest.load(var / "feeds.json")
    unchanged = _unchanged_site(var / "build.json", signature, now, manifest)
    site_warnings = _site_warnings(request.site_dir)
    if unchanged is not None and not (
        request.strict and (unchanged.problems or unchanged.warnings or site_warnings)
    ):
        return replace(unchanged, warnings=site_warnings + unchanged.warnings)
    read = read_posts(request.site_dir, settings, now, var / "posts.json", listing)
    plans, plan_problems = plan_feeds(read.posts, settings)
    # The posts readers see (those in some feed; a cold build reads their bodies anyway),
    # not all of them: reading every file whole would double a cold build of 10,000.
    shown = _posts_in(plans)
    leftovers = tally_posts(shown, settings, var / "tally.json")
    if read.parsed and leftovers:
        log.info("feeds: %s", check_hint(leftovers))  # `publisher run` logs it
    plans, foreign = _leave_foreign_files(plans, manifest, output_dir)
    plan_problems += foreign
    fingerprint = settings.fingerprint()
    keys = {plan.path: plan_key(plan, fingerprint) for plan in plans}
    stale = [p for p in plans if not manifest.is_current(output_dir / p.path, keys[p.path])]
    from publisher.content.bodies import render_bodies  # rendering only when a feed changed

    html_cache = HtmlCache(var / "html", fingerprint)
    needed = _posts_needing_bodies(stale, settings)
    html, body_problems = render_bodies(needed, settings, html_cache)
    problems = read.problems + tuple(plan_problems) + tuple(body_problems)
    report = _report(read, problems, output_dir, rendered=len(needed))
    report = replace(report, warnings=site_warnings + report.warnings, leftovers=leftovers)
    refused = bool(request.strict and (problems or report.warnings))
    if refused or (not read.posts and read.problems):
        return replace(report, aborted=refused)
    written, same = _write(plans, stale, keys, html, settings, output_dir, manifest)
    removed = _remove_orphans(manifest, plans, output_dir, settings)
    manifest.save()
    if stale:
        html_cache.prune(_posts_needing_bodies(plans, settings))
    report = replace(report, written=written, unchanged=same, removed=removed)
    if not foreign:  # else look again next time: the file may be gone by then
        _remember(var / "build.json", signature, replace(report, warnings=read.warnings))
    return report


def _site_warnings(site_dir: Path) -> tuple[Problem, ...]:
    """What in the site's own files Jekyll would read otherwise than publisher does."""
    try:
        with (site_dir / "_config.yml").open("rb") as handle:
            bom = handle.read(3) == b"\xef\xbb\xbf"
    except OSError:
        return ()
    if not bom:
        return ()
    reason = (
        "starts with a byte-order mark: Jekyll 4.3 then reads only its first setting"
        " (publisher reads them all); save it as UTF-8 without BOM"
    )
    return (Problem(path="_config.yml", line=1, reason=reason),)


def _signature(listing: list[tuple[str, str]], settings: Settings, output_dir: Path) -> str:
    digest = hashlib.sha256(f"{settings.fingerprint()}\0{output_dir}\0".encode())
    for path, stamp in listing:
        digest.update(f"{path}\0{stamp}\n".encode())
    return digest.hexdigest()


def _unchanged_site(
    path: Path, signature: str, now: datetime, manifest: Manifest
) -> BuildReport | None:
    """The previous report, if no post, setting or output changed and no post fell due since."""
    try:
        last = msgspec.json.decode(path.read_bytes(), type=_LastBuild)
    except (OSError, msgspec.DecodeError):
        return None
    if last.listing != signature or (last.next_due is not None and now >= last.next_due):
        return None
    if not manifest.files or not manifest.untouched():
        return None
    return BuildReport(
        files=last.files,
        published=last.published,
        scheduled=last.scheduled,
        drafts=last.drafts,
        parsed=0,
        rendered=0,
        written=(),
        unchanged=last.outputs,
        removed=(),
        problems=last.problems,
        next_due=last.next_due,
        output_dir=last.output_dir,
        warnings=last.warnings,
        leftovers=last.leftovers,
    )


def _remember(path: Path, signature: str, report: BuildReport) -> None:
    last = _LastBuild(
        listing=signature,
        output_dir=report.output_dir,
        next_due=report.next_due,
        files=report.files,
        published=report.published,
        scheduled=report.scheduled,
        drafts=report.drafts,
        outputs=tuple(sorted(report.written + report.unchanged)),
        problems=report.problems,
        warnings=report.warnings,
        leftovers=report.leftovers,
    )
    with contextlib.suppress(OSError):
        write_atomic(path, msgspec.json.encode(last))


def _leave_foreign_files(
    plans: list[FeedPlan], manifest: Manifest, output_dir: Path
) -> tuple[list[FeedPlan], list[Problem]]:
    """jekyll-feed's plans whose file is there and not publisher's: jekyll-feed left those alone.

    A ``feed.xml`` of the site's own is what readers got there; it is never overwritten.
    """
    kept: list[FeedPlan] = []
    problems: list[Problem] = []
    for plan in plans:
        target = output_dir / plan.path
        if plan.style == "jekyll-feed" and _foreign(target, manifest):
            reason = "is the site's own file, not publisher's: left alone (delete it to have"
            problems.append(Problem(path=plan.path, reason=f"{reason} publisher write it)"))
        else:
            kept.append(plan)
    return kept, problems


def _foreign(target: Path, manifest: Manifest) -> bool:
    from publisher.feeds.jekyll import written_by_publisher  # only with [feeds] jekyll_feed

    if str(target) in manifest.files:
        return False
    try:
        with target.open("rb") as handle:
            head = handle.read(1024)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return not written_by_publisher(head)


def _posts_in(plans: list[FeedPlan]) -> list[Post]:
    """Every post some feed shows, once."""
    unique: dict[str, Post] = {}
    for plan in plans:
        for post in plan.posts:
            unique.setdefault(post.id, post)
    return list(unique.values())


def _posts_needing_bodies(plans: list[FeedPlan], settings: Settings) -> list[Post]:
    unique: dict[str, Post] = {}
    for plan in plans:
        for post in plan.posts if plan.with_content else ():
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
    redo = {plan.path for plan in stale}
    unchanged = [p.path for p in plans if p.path not in redo]
    for plan, changed in zip(
        stale, _render_and_write(stale, html, settings, output_dir), strict=True
    ):
        (written if changed else unchanged).append(plan.path)
        manifest.record(output_dir / plan.path, keys[plan.path])
    if settings.feeds.stylesheet and any(p.format == "atom" for p in plans):
        xsl = (template_folder() / "feed.xsl").read_bytes()
        relative = f"{settings.feeds.dir}/feed.xsl"
        (written if write_if_changed(output_dir / relative, xsl) else unchanged).append(relative)
        manifest.record(output_dir / relative, "stylesheet")
    return tuple(written), tuple(sorted(unchanged))


def _render_and_write(
    plans: list[FeedPlan], html: dict[str, str], settings: Settings, output_dir: Path
) -> list[bool]:
    """Serialise and write each feed (over the cores when there are many); whether each changed."""
    context = (html, settings, output_dir)
    renderers = ("publisher.feeds.atom", "publisher.feeds.jsonfeed")
    return map_work(
        _write_one,
        plans,
        context,
        workers=settings.feeds.workers,
        minimum=PARALLEL_FEEDS,
        preload=renderers,
    )


def _write_one(plan: FeedPlan, context: tuple[dict[str, str], Settings, Path]) -> bool:
    html, settings, output_dir = context
    target = output_dir / plan.path
    try:
        return write_if_changed(target, render_feed(plan, html, settings))
    except OSError as exc:
        raise OutputError(target, exc.strerror or str(exc)) from exc


def _remove_orphans(
    manifest: Manifest, plans: list[FeedPlan], output_dir: Path, settings: Settings
) -> tuple[str, ...]:
    keep = {output_dir / plan.path for plan in plans} | {
        output_dir / settings.feeds.dir / "feed.xsl"
    }
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
        warnings=read.warnings,
    )
