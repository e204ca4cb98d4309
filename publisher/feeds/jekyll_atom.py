"""One of jekyll-feed's feeds → Atom bytes, element for element as its ``feed.xml`` template.

jekyll-feed 0.17's template writes, per feed: the generator, a ``self`` and
an ``alternate`` link (with ``hreflang``), ``updated``, ``id`` (the feed's own
URL), an HTML ``title``, the site's description and author; per entry: an
HTML title (``smartify | strip_html | normalize_whitespace``), the link (with
the title again), ``published`` and ``updated`` in the site's zone, the id,
the HTML content with ``xml:base`` unless ``feed.excerpt_only``, an author
(empty name if none), one ``category`` per category and tag (a term only),
and the summary.

What differs is publisher's: the generator, the feed's ``updated`` (its
newest entry's, not the build time, so the bytes do not change with the
clock), the HTML (publisher's Markdown) and the summary (publisher's excerpt).
Written with the standard library's ElementTree: neither feedgen nor lxml.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime, tzinfo
from html import escape

from publisher.config import Settings
from publisher.feeds.jekyll import GENERATOR, jekyll_post_url
from publisher.feeds.plan import FeedPlan
from publisher.feeds.smartify import normalize_whitespace, smartify, strip_html
from publisher.models import Post

__all__ = ["render_jekyll_atom"]

_ATOM = "http://www.w3.org/2005/Atom"


def render_jekyll_atom(
    plan: FeedPlan, html: Mapping[str, str], settings: Settings, stylesheet: str | None
) -> bytes:
    """The Atom document for a jekyll-feed ``plan``; ``stylesheet``: an XSLT href, if any."""
    site = settings.site
    feed = ET.Element("feed", {"xmlns": _ATOM, **({"xml:lang": site.lang} if site.lang else {})})
    _sub(feed, "generator", GENERATOR[0], uri=GENERATOR[1])
    _sub(feed, "link", href=plan.url, rel="self", type="application/atom+xml")
    home = {"hreflang": site.lang} if site.lang else {}
    _sub(feed, "link", href=plan.home_url, rel="alternate", type="text/html", **home)
    _sub(feed, "updated", _xmlschema(plan.updated, site.tz))
    _sub(feed, "id", plan.id)
    _sub(feed, "title", plan.title, type="html")
    if site.description:
        _sub(feed, "subtitle", site.description)
    if site.author:
        _sub(_sub(feed, "author"), "name", site.author)
    ids = plan.entry_ids or tuple(post.id for post in plan.posts)
    for post, entry_id in zip(plan.posts, ids, strict=True):
        _entry(feed, post, entry_id, plan.with_content and html.get(post.id), settings)
    ET.indent(feed)
    head = '<?xml version="1.0" encoding="utf-8"?>\n'
    if stylesheet:
        head += f'<?xml-stylesheet type="text/xsl" href="{escape(stylesheet)}"?>\n'
    return head.encode() + ET.tostring(feed, encoding="unicode").encode() + b"\n"


def _entry(
    feed: ET.Element, post: Post, entry_id: str, body: str | bool | None, settings: Settings
) -> None:
    tz = settings.site.tz
    entry = _sub(feed, "entry")
    title = normalize_whitespace(strip_html(smartify(post.title)))
    link = jekyll_post_url(post, settings)
    _sub(entry, "title", title, type="html")
    _sub(entry, "link", href=link, rel="alternate", type="text/html", title=title)
    _sub(entry, "published", _xmlschema(post.date, tz))
    _sub(entry, "updated", _xmlschema(post.updated, tz))
    _sub(entry, "id", entry_id)
    if isinstance(body, str):
        _sub(entry, "content", body.strip(), type="html", **{"xml:base": link})
    _sub(_sub(entry, "author"), "name", post.author or "")
    for term in post.categories + post.tags:
        _sub(entry, "category", term=term)
    if post.excerpt:
        summary = normalize_whitespace(escape(post.excerpt, quote=False))
        _sub(entry, "summary", summary, type="html")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def _xmlschema(moment: datetime, tz: tzinfo) -> str:
    """Ruby's ``Time#xmlschema`` of the time in the site's zone, as Jekyll's filter writes it."""
    return moment.astimezone(tz).isoformat(timespec="seconds")
