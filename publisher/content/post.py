"""Front matter → :class:`~publisher.models.Post`: Jekyll's rules, one file at a time.

Pure apart from reading the one file it is given. Any reason not to publish
the post is a :class:`~publisher.errors.PostError` with the path and line;
what was mended to publish it comes back as warnings.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from datetime import date as calendar_date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.config import Settings
from publisher.content.cleaning import clean_body
from publisher.content.dates import date_from_filename, parse_date
from publisher.content.excerpt import derive_excerpt, has_first_paragraph
from publisher.content.frontmatter import Head, key_line, read_head, read_more_body
from publisher.content.ids import iri_to_uri, tag_uri
from publisher.content.markup import strip_xml_illegal
from publisher.content.permalink import file_slug, post_path, site_template
from publisher.errors import PostError
from publisher.models import Post

if TYPE_CHECKING:
    from publisher.content.yamlsafe import Note

__all__ = ["DRAFT", "TITLE_LIMIT", "parse_post", "post_slug"]

DRAFT = "draft"
TITLE_LIMIT = 300
"""Characters of a title kept (the rest is cut, with a warning): feeds and mail stay small."""
# Enough body to find the first paragraph (and a title line before it) in most posts.
_EXCERPT_CHARS = 3000
# The digest, the schedule and the feeds do date arithmetic of a few weeks
# either side of a post's date, and show it in UTC and in the site's timezone:
# a date that close to datetime's limits (years 1 and 9999) cannot be published.
_DATE_MARGIN = timedelta(days=366)


def post_slug(filename: str) -> str:
    """The slug part of a Jekyll post file name: ``2025-09-21-hello.md`` → ``hello``."""
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return stem[11:] if len(stem) > 11 else stem


def parse_post(
    path: Path, relpath: str, settings: Settings, stamp: str = ""
) -> tuple[Post | str, tuple[Note, ...]]:
    """Read one post file: its :class:`Post` (or ``DRAFT`` for ``published: false``), and warnings.

    The warnings say what was removed or repaired to read it; a draft has none.
    """
    size, _, _ = stamp.partition("-")  # the scan's "SIZE-MTIME", when given
    head = read_head(path, int(size) if size.isdigit() else None)
    meta = head.meta
    if meta.get("published") is False:
        return DRAFT, ()
    title = _text(meta.get("title"))
    if not title:
        raise PostError(
            path, "no title in front matter", line=key_line(head.front_matter, "title") or 1
        )
    notes: tuple[Note, ...] = ()
    if len(title) > TITLE_LIMIT:
        title_line = key_line(head.front_matter, "title")
        notes = ((title_line, f"title cut to {TITLE_LIMIT} characters (it has {len(title):,})"),)
        title = title[: TITLE_LIMIT - 1].rstrip() + "…"
    separator = settings.site.excerpt_separator
    if not _text(meta.get("excerpt")) and not has_first_paragraph(head.body, title, separator):
        # The excerpt comes from the first paragraph, and it is not all in the head read.
        head = read_more_body(path, head, _EXCERPT_CHARS)
    site = settings.site
    date = _date(path, head, "date", settings) or _filename_date(path, site.tz)
    if date is None:
        raise PostError(path, "no date: neither a date key nor a YYYY-MM-DD- file name", line=1)
    updated = _date(path, head, "last_modified_at", settings) or date
    slug = _text(meta.get("slug")) or post_slug(path.name)
    categories = _names(meta.get("categories")) + _names(meta.get("category"), split=False)
    tags = _names(meta.get("tags")) + _names(meta.get("tag"), split=False)
    categories, tags = _unique(categories), _unique(tags)
    local = date.astimezone(site.tz)
    url = site.root_url + _url_path(meta, relpath, site.permalink, local, categories)
    post = Post(
        source=str(path),
        path=relpath,
        title=title,
        date=date,
        updated=max(updated, date),
        slug=slug,
        url=iri_to_uri(url),
        id=_text(meta.get("id")) or tag_uri(site.domain, local.strftime("%Y-%m-%d"), slug),
        categories=categories,
        tags=tags,
        author=_author(meta.get("author")) or site.author,
        excerpt=_excerpt(head, title, settings),
        reading_time=_reading_time(meta.get("reading_time")),
        body_offset=head.body_offset,
        stamp=stamp,
    )
    return post, head.warnings + notes


def _url_path(
    meta: dict[str, Any], relpath: str, permalink: str, local: datetime, categories: tuple[str, ...]
) -> str:
    """Jekyll's URL path: ``slug: ""`` and ``permalink: ""`` count, as in Ruby."""
    own, given = meta.get("permalink"), meta.get("slug")
    template = strip_xml_illegal(own) if isinstance(own, str) else site_template(permalink)
    slug = given if isinstance(given, str) else _text(given) or file_slug(relpath)
    return post_path(template, local, categories, slug, relpath)


def _date(path: Path, head: Head, key: str, settings: Settings) -> datetime | None:
    value = head.meta.get(key)
    if value is None or value == "":
        return None
    tz = settings.site.tz
    try:
        if isinstance(value, datetime) and value.tzinfo is None:
            # A YAML timestamp without an offset (2025-09-21 23:30:00): Ruby's YAML, so Jekyll,
            # reads it as UTC (and shows it in the site's timezone). A string is local time.
            value = value.replace(tzinfo=UTC).astimezone(tz)
        return _in_range(parse_date(value, tz), tz)
    except (ValueError, OverflowError) as exc:
        raise PostError(path, f"{key}: {exc}", line=key_line(head.front_matter, key)) from exc


def _filename_date(path: Path, tz: tzinfo) -> datetime | None:
    found = date_from_filename(path.name, tz)
    try:
        return None if found is None else _in_range(found, tz)
    except (ValueError, OverflowError) as exc:
        raise PostError(path, f"the date in the file name: {exc}", line=1) from exc


def _in_range(value: datetime, tz: tzinfo) -> datetime:
    """``value`` if it is far enough from datetime's limits; else ``ValueError``."""
    if 2 < value.year < 9998:  # every real date: more than _DATE_MARGIN from both limits
        return value
    try:
        for moment in (value - _DATE_MARGIN, value + _DATE_MARGIN):
            moment.astimezone(UTC)
            moment.astimezone(tz)
    except OverflowError:
        shown = value.isoformat()
        raise ValueError(f"{shown} is too close to year 1 or 9999 to publish") from None
    return value


def _excerpt(head: Head, title: str, settings: Settings) -> str:
    given = _text(head.meta.get("excerpt"))
    if given:
        return " ".join(given.split())
    separator = settings.site.excerpt_separator
    body = clean_body(head.body, title, settings.content)  # [content] clean
    return derive_excerpt(body, title, separator, settings.feeds.excerpt_length)


def _text(value: object) -> str:
    # Scalars only: the str() of a container can be huge (aliases nest without copying).
    if not isinstance(value, (str, int, float, calendar_date)):
        return ""
    return strip_xml_illegal(str(value)).strip()


def _names(value: object, split: bool = True) -> tuple[str, ...]:
    # Jekyll: a list, or a space-separated string ("categories: a b").
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        items = [_text(v) for v in value]
    else:
        text = _text(value)
        items = text.split() if split else [text]
    return tuple(item for item in items if item)


def _unique(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _author(value: object) -> str:
    if isinstance(value, dict):
        return _text(value.get("name"))
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value if _text(v))
    return _text(value)


def _reading_time(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        return None
    return minutes if minutes > 0 else None
