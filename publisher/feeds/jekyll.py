"""jekyll-feed's feeds, planned as jekyll-feed 0.17 plans them (``[feeds] jekyll_feed``).

For readers subscribed to jekyll-feed's feeds to notice no switch, publisher
writes the same files with the same entries:

- the site feed at ``feed.path`` (``/feed.xml``), one feed per name listed in
  ``feed.categories`` at ``/feed/<name>.xml`` (even when no post has it), and
  with ``feed.tags`` one per tag at ``<tags.path><tag>.xml`` — only tags of
  ASCII letters, digits and ``_``, ``only`` (default every tag) minus
  ``except``;
- entries newest first (ties in path order: jekyll-feed's stable sort of
  Jekyll's reversed post list), the first ``feed.posts_limit`` (10); a post
  is in a category feed when that exact name is among its categories;
- each entry's id is jekyll-feed's ``post.id | absolute_url``, except that a
  post dated after ``[feeds] jekyll_feed_until`` gets publisher's ``tag:`` id;
- feed titles are the site's title, `` | `` and the category capitalised the
  Ruby way (``AI`` → ``Ai``); tag feeds have the site's title alone.

>>> [p.path for p in plan_jekyll_feeds(posts, settings)]        # doctest: +SKIP
['feed.xml', 'feed/AI.xml', 'feed/by_tag/ml.xml']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from publisher.config import Settings
from publisher.config.model import JekyllFeedTags
from publisher.feeds.jekyll_url import absolute_url, jekyll_id
from publisher.feeds.plan import EPOCH, FeedPlan, Kind
from publisher.feeds.smartify import smartify
from publisher.models import Post

__all__ = [
    "GENERATOR",
    "JEKYLL_STYLE",
    "entry_id",
    "jekyll_post_url",
    "plan_jekyll_feeds",
    "written_by_publisher",
]

JEKYLL_STYLE: Literal["jekyll-feed"] = "jekyll-feed"
GENERATOR = ("publisher", "https://github.com/publisher-feeds/publisher")
_TAG_NAME = re.compile(r"[a-zA-Z0-9_]+")


def plan_jekyll_feeds(posts: Sequence[Post], settings: Settings) -> list[FeedPlan]:
    """jekyll-feed's feeds for ``posts`` (the published ones)."""
    feed = settings.site.feed
    ordered = sorted(posts, key=_newest_first)
    plans = [_plan(settings, "site", feed.path, "", ordered)]
    for name in dict.fromkeys(feed.categories):
        members = [post for post in ordered if name in post.categories]
        plans.append(_plan(settings, "category", f"/feed/{name}.xml", name, members))
    if feed.tags and any(post.tags for post in ordered):
        for tag, path in _tag_feeds(ordered, feed.tags):
            members = [post for post in ordered if tag in post.tags]
            plans.append(_plan(settings, "tag", path, tag, members))
    return plans


def _tag_feeds(posts: Sequence[Post], tags: bool | JekyllFeedTags) -> list[tuple[str, str]]:
    config = tags if isinstance(tags, JekyllFeedTags) else JekyllFeedTags()
    every = list(dict.fromkeys(tag for post in posts for tag in post.tags))
    pool = config.only if config.only is not None else every
    wanted = [tag for tag in dict.fromkeys(pool) if tag not in config.except_]
    # jekyll-feed skips names with other characters; Jekyll fails on a tag no post has.
    usable = [tag for tag in wanted if _TAG_NAME.fullmatch(tag) and tag in every]
    return [(tag, f"{config.path}{tag}.xml") for tag in usable]


def entry_id(post: Post, settings: Settings, cutoff: datetime | None) -> str:
    """The id jekyll-feed gave ``post`` (publisher's own for a post dated after ``cutoff``)."""
    if cutoff is not None and post.date > cutoff:
        return post.id
    site = settings.site
    return absolute_url(site.url, site.baseurl, jekyll_id(_url_path(post, settings), post.slug))


def jekyll_post_url(post: Post, settings: Settings) -> str:
    """``post.url | absolute_url``: the post's link as jekyll-feed writes it."""
    site = settings.site
    return absolute_url(site.url, site.baseurl, _url_path(post, settings))


def _url_path(post: Post, settings: Settings) -> str:
    """Jekyll's ``post.url``: the path after ``baseurl``."""
    path = urlsplit(post.url).path
    base = urlsplit(settings.site.root_url).path
    return path[len(base) :] if base and path.startswith(base + "/") else path


def _newest_first(post: Post) -> tuple[float, str]:
    return (-post.date.timestamp(), post.path)


def _plan(settings: Settings, kind: Kind, path: str, name: str, posts: Sequence[Post]) -> FeedPlan:
    site = settings.site
    chosen = tuple(posts[: site.feed.posts_limit])
    cutoff = settings.feeds.jekyll_cutoff(site.tz)
    title = site.title + (f" | {name.capitalize()}" if kind == "category" else "")
    url = absolute_url(site.url, site.baseurl, path)
    return FeedPlan(
        kind=kind,
        format="atom",
        name=name,
        path=re.sub("/{2,}", "/", path).lstrip("/"),
        url=url,
        home_url=absolute_url(site.url, site.baseurl, "/"),
        title=smartify(title),
        subtitle=site.description,
        id=url,
        updated=max((p.updated for p in chosen), default=EPOCH),
        posts=chosen,
        with_content=not site.feed.excerpt_only,
        style=JEKYLL_STYLE,
        entry_ids=tuple(entry_id(post, settings, cutoff) for post in chosen),
    )


def written_by_publisher(head: bytes) -> bool:
    """Whether a feed file beginning with ``head`` names publisher as its generator."""
    return f'<generator uri="{GENERATOR[1]}">{GENERATOR[0]}</generator>'.encode() in head
