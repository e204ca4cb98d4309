"""Which feeds exist and what each holds: pure decisions over Posts and Settings.

One site-wide feed (Atom, plus RSS 2.0 and JSON Feed twins), one Atom feed per
category and one per tag. Each holds the newest ``[feeds] limit`` posts,
newest first. Two names that would share a file are reported, and their posts
share that feed rather than one overwriting the other.

>>> plans, problems = plan_feeds(posts, settings)                 # doctest: +SKIP
>>> [p.path for p in plans][:2]                                   # doctest: +SKIP
['feeds/atom.xml', 'feeds/rss.xml']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal

import msgspec

from publisher.config import Settings
from publisher.content.ids import iri_to_uri
from publisher.feeds.slugs import feed_slug
from publisher.models import Post, Problem

__all__ = ["FeedPlan", "feed_url", "plan_feeds"]

Kind = Literal["site", "category", "tag"]
_EXTENSIONS = {"atom": "atom.xml", "rss": "rss.xml", "json": "feed.json"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FeedPlan(msgspec.Struct, frozen=True, kw_only=True):
    """One feed file to write: where, in which format, with which posts."""

    kind: Kind
    format: Literal["atom", "rss", "json"]
    name: str = ""
    path: str
    """Relative to the output folder, with ``/`` separators."""
    url: str
    home_url: str
    title: str
    subtitle: str
    id: str
    updated: datetime
    posts: tuple[Post, ...]
    with_content: bool = True
    """Whether entries carry the post's HTML (else the summary only)."""
    style: Literal["publisher", "jekyll-feed"] = "publisher"
    """``jekyll-feed``: one of the feeds jekyll-feed wrote, written as it wrote them."""
    entry_ids: tuple[str, ...] = ()
    """The id of each post's entry, when it is not the post's own ``id``."""


def plan_feeds(posts: Sequence[Post], settings: Settings) -> tuple[list[FeedPlan], list[Problem]]:
    """Plan every feed for ``posts`` (published, newest first)."""
    plans, problems = _publisher_feeds(posts, settings)
    if settings.feeds.jekyll_feed:
        from publisher.feeds.jekyll import plan_jekyll_feeds

        ours = {plan.path for plan in plans}
        for plan in plan_jekyll_feeds(posts, settings):
            if plan.path in ours:
                problems.append(_clash(plan.path))
            else:
                plans.append(plan)
    return plans, problems


def _clash(path: str) -> Problem:
    return Problem(
        path="_config.yml",
        reason=f"jekyll-feed's {path} is also one of publisher's feeds; it was not written"
        " (change feed: in _config.yml or [feeds] dir)",
    )


def _publisher_feeds(
    posts: Sequence[Post], settings: Settings
) -> tuple[list[FeedPlan], list[Problem]]:
    feeds = settings.feeds
    plans = [
        _plan(settings, "site", fmt, "", f"{feeds.dir}/{_EXTENSIONS[fmt]}", posts)
        for fmt in feeds.formats
    ]
    problems: list[Problem] = []
    groups: list[tuple[Kind, str, Mapping[str, str], bool]] = [
        ("category", "categories", settings.categories, feeds.categories),
        ("tag", "tags", settings.tags, feeds.tags),
    ]
    for kind, folder, mapping, enabled in groups:
        if not enabled:
            continue
        grouped, clashes = _group(posts, kind, folder, mapping)
        problems.extend(clashes)
        for slug, (name, members) in sorted(grouped.items()):
            path = f"{feeds.dir}/{folder}/{slug}.xml"
            plans.append(_plan(settings, kind, "atom", name, path, members))
    return plans, problems


def _group(
    posts: Sequence[Post], kind: Kind, table: str, mapping: Mapping[str, str]
) -> tuple[dict[str, tuple[str, list[Post]]], list[Problem]]:
    by_name: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        for name in post.categories if kind == "category" else post.tags:
            by_name[name].append(post)
    grouped: dict[str, tuple[str, list[Post]]] = {}
    problems: list[Problem] = []
    for name in sorted(by_name):
        slug = feed_slug(name, mapping)
        if slug not in grouped:
            grouped[slug] = (name, by_name[name])
            continue
        first, members = grouped[slug]
        merged = sorted({p.path: p for p in members + by_name[name]}.values(), key=_newest_first)
        grouped[slug] = (first, merged)
        problems.append(
            Problem(
                path=by_name[name][0].path,
                reason=f"{kind} {first!r} and {name!r} both map to the feed slug {slug!r};"
                f" their posts share one feed (give one its own slug in [{table}] of"
                " publisher.toml)",
            )
        )
    return grouped, problems


def feed_url(settings: Settings, path: str) -> str:
    """The public URL of a file under the output folder (``feeds/atom.xml``)."""
    return iri_to_uri(f"{settings.site.root_url}/{path}")


def _newest_first(post: Post) -> tuple[float, str]:
    return (-post.date.timestamp(), post.path)


def _plan(
    settings: Settings,
    kind: Kind,
    fmt: Literal["atom", "rss", "json"],
    name: str,
    path: str,
    posts: Sequence[Post],
) -> FeedPlan:
    site = settings.site
    chosen = tuple(posts[: settings.feeds.limit])
    title = site.title if kind == "site" else f"{site.title} - {name}"
    url = feed_url(settings, path)
    return FeedPlan(
        kind=kind,
        format=fmt,
        name=name,
        path=path,
        url=url,
        home_url=site.root_url + "/",
        title=title,
        subtitle=site.description,
        id=url,
        updated=max((p.updated for p in chosen), default=EPOCH),
        posts=chosen,
        with_content=settings.feeds.content == "full",
    )
