"""FeedPlan → Atom 1.0 (RFC 4287) or RSS 2.0 bytes, via feedgen.

feedgen fills ``updated`` and ``lastBuildDate`` with ``now()`` and prepends
entries by default; both are set explicitly here, so the same posts always
give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping

from feedgen.feed import FeedGenerator

from publisher.config import Settings
from publisher.feeds.plan import FeedPlan
from publisher.models import Post

__all__ = ["render_atom", "render_rss"]

GENERATOR = ("publisher", "https://github.com/publisher-feeds/publisher")


def render_atom(
    plan: FeedPlan, html: Mapping[str, str], settings: Settings, stylesheet: str | None
) -> bytes:
    """The Atom document for ``plan``; ``stylesheet``: the href of an XSLT to link, if any."""
    fg = _feed(plan, html, settings)
    data: bytes = fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    if stylesheet:
        declaration, _, rest = data.partition(b"\n")
        pi = f'<?xml-stylesheet type="text/xsl" href="{stylesheet}"?>'.encode()
        data = b"\n".join((declaration, pi, rest))
    return data


def render_rss(plan: FeedPlan, html: Mapping[str, str], settings: Settings) -> bytes:
    """The RSS 2.0 document for ``plan`` (full content in ``content:encoded``)."""
    fg = _feed(plan, html, settings)
    fg.lastBuildDate(plan.updated)
    fg.description(plan.subtitle or plan.title)
    data: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data


def _feed(plan: FeedPlan, html: Mapping[str, str], settings: Settings) -> FeedGenerator:
    site = settings.site
    fg = FeedGenerator()
    fg.id(plan.id)
    fg.title(plan.title)
    if plan.subtitle:
        fg.subtitle(plan.subtitle)
    fg.link(href=plan.home_url, rel="alternate", type="text/html")
    fg.link(href=plan.url, rel="self", type=_MEDIA_TYPES[plan.format])
    if settings.feeds.websub_hub and plan.format == "atom":
        # W3C WebSub §4: the hub and self links let readers subscribe for pushes.
        fg.link(href=settings.feeds.websub_hub, rel="hub")
    fg.language(site.lang)
    # RFC 4287 §4.1.1: a feed needs an author unless every entry has one.
    fg.author({"name": site.author or site.title})
    fg.generator(GENERATOR[0], uri=GENERATOR[1])
    fg.updated(plan.updated)
    for post in plan.posts:
        _entry(fg, post, html, settings)
    return fg


_MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}


def _entry(fg: FeedGenerator, post: Post, html: Mapping[str, str], settings: Settings) -> None:
    root = settings.site.root_url
    entry = fg.add_entry(order="append")
    entry.id(post.id)
    entry.title(post.title)
    entry.link(href=post.url, rel="alternate", type="text/html")
    entry.published(post.date)
    entry.updated(post.updated)
    if post.author:
        entry.author({"name": post.author})
    for name in post.categories:
        entry.category(term=name, label=name, scheme=f"{root}/{settings.feeds.dir}/categories/")
    for name in post.tags:
        entry.category(term=name, label=name, scheme=f"{root}/{settings.feeds.dir}/tags/")
    if post.excerpt:
        entry.summary(post.excerpt, type="text")
    body = html.get(post.id)
    if settings.feeds.content == "full" and body is not None:
        entry.content(body, type="html")
