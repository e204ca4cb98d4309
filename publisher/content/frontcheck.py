"""The front-matter checks of ``publisher check``: keys, excerpt, categories, dates.

Pure: each takes the parsed front matter (and its text, for line numbers) and
gives :class:`Finding` values. ``path:line: kind: message``, as the build
reports problems.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime, tzinfo
from typing import Any

import msgspec

from publisher.config import Settings
from publisher.content.dates import date_from_filename, parse_date
from publisher.content.frontmatter import key_line

__all__ = ["KNOWN_KEYS", "Finding", "check_front"]

# Jekyll's own front matter (layout, permalink, published, date, category,
# categories, tags, excerpt_separator, render_with_liquid), what its common
# plugins read (jekyll-seo-tag: title, description, author, image, lang;
# jekyll-sitemap and jekyll-last-modified-at: sitemap, last_modified_at;
# jekyll-redirect-from), and what publisher reads (excerpt, slug, tag, id, reading_time).
KNOWN_KEYS = frozenset(
    {
        "layout",
        "permalink",
        "published",
        "date",
        "category",
        "categories",
        "tags",
        "tag",
        "excerpt_separator",
        "render_with_liquid",
        "title",
        "description",
        "author",
        "image",
        "lang",
        "sitemap",
        "last_modified_at",
        "redirect_from",
        "redirect_to",
        "excerpt",
        "slug",
        "id",
        "reading_time",
    }
)


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One thing ``publisher check`` found: where, what kind, and what to do.

    >>> str(Finding(path="_posts/a.md", line=3, kind="marker", message="x"))
    '_posts/a.md:3: marker: x'
    """

    path: str
    line: int
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.message}"


def check_front(
    relpath: str, meta: dict[str, Any], front: str, settings: Settings
) -> list[Finding]:
    """Unknown keys, the excerpt, a missing category, file-name and front-matter dates."""

    def found(key: str, kind: str, message: str) -> Finding:
        return Finding(path=relpath, line=key_line(front, key) or 1, kind=kind, message=message)

    findings = [found(key, "unknown-key", _unknown(key, settings)) for key in _unknown_keys(meta)]
    excerpt = _excerpt_problem(meta, settings.feeds.excerpt_length)
    if excerpt:
        findings.append(found("excerpt", "excerpt", excerpt))
    if not (_has_value(meta.get("categories")) or _has_value(meta.get("category"))):
        message = "no categories: the post is in no category feed and no category's digest"
        findings.append(Finding(path=relpath, line=1, kind="no-category", message=message))
    apart = _date_mismatch(relpath, meta.get("date"), settings.site.tz)
    if apart:
        findings.append(found("date", "date-mismatch", apart))
    return findings


def _unknown_keys(meta: dict[str, Any]) -> list[str]:
    return [key for key in meta if isinstance(key, str) and key not in KNOWN_KEYS]


def _unknown(key: str, settings: Settings) -> str:
    known = sorted(KNOWN_KEYS | set(settings.content.known_keys))
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    tail = "" if close else "; a theme's own key goes in [content] known_keys"
    return f"{key!r} is a key neither Jekyll nor publisher knows{hint}{tail}"


def _excerpt_problem(meta: dict[str, Any], length: int) -> str:
    if "excerpt" not in meta:
        return ""
    value = meta["excerpt"]
    text = " ".join(str(value).split()) if isinstance(value, (str, int, float)) else ""
    if not text:
        return "the excerpt is empty: feeds and digests use the first paragraph instead"
    if len(text) > length:
        return (
            f"the excerpt is {len(text)} characters, over [feeds] excerpt_length = {length}: "
            "feeds and digests show it whole"
        )
    return ""


def _has_value(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return any(str(v).strip() for v in value if v is not None)
    return value is not None and bool(str(value).strip())


def _date_mismatch(relpath: str, value: object, tz: tzinfo) -> str:
    named = date_from_filename(relpath.rsplit("/", 1)[-1], tz)
    if named is None or value is None or value == "":
        return ""
    try:
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)  # as the build reads it: see content.post
        given = parse_date(value, tz).astimezone(tz)
    except (ValueError, OverflowError):
        return ""  # the build reports a date it cannot read
    days = abs((given.date() - named.date()).days)
    if days <= 1:
        return ""
    return (
        f"the file name says {named.date()}, date says {given.date()} ({days} days apart): "
        "the feeds use date, Jekyll's URL too; rename the file or fix the date"
    )
