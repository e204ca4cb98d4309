"""Post URLs exactly as Jekyll 4.3 builds them (``Jekyll::URL`` and ``Drops::UrlDrop``).

The site's ``permalink`` is one of Jekyll's styles (``date``, ``pretty``,
``ordinal``, ``weekdate``, ``none``) or a pattern; a post's own
``permalink`` is always a pattern (``permalink: pretty`` there is the page
``/pretty``) and may hold placeholders too. Dates are in the site's timezone.

Each placeholder's value is percent-encoded as Jekyll's ``URL.escape_path``
does; the pattern's own text, which Jekyll leaves as written, is encoded
only as far as a URI needs (its ``%XX`` kept: Jekyll decodes them when it
names the file). Then Jekyll's clean-up: ``..`` becomes ``/``, ``./`` goes,
``//`` becomes ``/``. So the path decodes to the file Jekyll writes, with
``index.html`` after a path ending in ``/`` (and ``.html`` after any other
not ending in ``.html``). The one difference: a ``?`` in a category is ``%3F`` here,
where Jekyll leaves it, so that the link reaches the page.

>>> from datetime import datetime, timezone
>>> d = datetime(2025, 9, 21, 2, 15, tzinfo=timezone.utc)
>>> post_path(site_template("date"), d, ("投資分析",), "000_f2add3d526d6bbe3")
'/%E6%8A%95%E8%B3%87%E5%88%86%E6%9E%90/2025/09/21/000_f2add3d526d6bbe3.html'
>>> post_path("/:year/:title/", d, (), "Upper_Case.Name")
'/2025/Upper_Case.Name/'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote

from publisher.content.ids import slugify

__all__ = ["STYLES", "file_slug", "post_path", "site_template"]

# Jekyll::Configuration::STYLE_TO_PERMALINK
STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
_PLACEHOLDER = re.compile(r":([a-z_]+)")
# URL.escape_path: Addressable's path characters stay, the rest is %XX (and "?" here).
_VALUE_SAFE = "/!$&'()*+,;=:@"
_PLAIN = re.compile(r"[a-zA-Z0-9./-]*")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SLASHES = re.compile(r"/{2,}")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)

Part = Callable[[datetime, tuple[str, ...], str, str], str]
"""A placeholder's value from the local date, the categories, ``data["slug"]`` and the file path."""
Escape = Callable[[str], str]
_UNIQUE = frozenset({"title", "slug", "name", "path"})
_HTML_EXTS = frozenset({".markdown", ".mkdown", ".mkdn", ".mkd", ".md", ".html"})


def site_template(permalink: str) -> str:
    """The pattern of the site's ``permalink`` setting: a style's, or the setting itself."""
    return STYLES.get(permalink, permalink)


def file_slug(relpath: str) -> str:
    """Jekyll's slug from a post's file name: after ``YYYY-MM-DD-``, no extension, no final dots.

    >>> file_slug("_posts/2025-08-04-trail....md")
    'trail'
    """
    name = relpath.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return stem[11:].rstrip(".")


def post_path(
    template: str, date: datetime, categories: tuple[str, ...], slug: str, relpath: str = ""
) -> str:
    """The path part of a post's URL (what follows ``url`` + ``baseurl``).

    ``template`` is a pattern (see :func:`site_template`), ``date`` in the
    site's timezone, ``slug`` Jekyll's ``data["slug"]`` (the front matter's
    ``slug``, else :func:`file_slug`), ``relpath`` the file's path from the
    site (``_posts/2025-09-21-hello.md``; for ``:name`` and ``:path``).
    """
    literals, parts = _compile(template)
    pieces = [literals[0]]
    for part, escape, literal in parts:
        pieces.append(escape(part(date, categories, slug, relpath)))
        pieces.append(literal)
    return _sanitize("".join(pieces))


@lru_cache(maxsize=256)
def _compile(template: str) -> tuple[tuple[str, ...], tuple[tuple[Part, Escape, str], ...]]:
    """``template`` as its first text, then (placeholder, its escape, the text after) triples.

    ``:month_`` is ``:month`` then ``_``, as in Jekyll.
    """
    literals, names = [], []
    start = 0
    for match in _PLACEHOLDER.finditer(template):
        name = match[1]
        if name not in _PARTS and name.endswith("_") and name[:-1] in _PARTS:
            name = name[:-1]
        elif name not in _PARTS:
            continue  # Jekyll stops the build here; the text stays
        literals.append(_encode_text(template[start : match.start()]))
        names.append(name)
        start = match.start() + 1 + len(name)
    literals.append(_encode_text(template[start:]))
    # A post's own slug or file name is seldom another's: no cache for those.
    parts = tuple(
        (_PARTS[name], _escape if name in _UNIQUE else _escape_cached, literals[i + 1])
        for i, name in enumerate(names)
    )
    return tuple(literals), parts


def _encode_text(text: str) -> str:
    return quote(_BAD_PERCENT.sub("%25", text), safe=_VALUE_SAFE + "%")


def _escape(value: str) -> str:
    if _PLAIN.fullmatch(value):
        return value
    return quote(value, safe=_VALUE_SAFE)


# The same categories and date parts recur across thousands of posts.
_escape_cached = lru_cache(maxsize=4096)(_escape)


def _sanitize(path: str) -> str:
    # Jekyll::URL#sanitize_url
    path = ("/" + path).replace("..", "/").replace("./", "")
    return _SLASHES.sub("/", path) if "//" in path else path


@lru_cache(maxsize=1024)
def _join_categories(categories: tuple[str, ...]) -> str:
    # UrlDrop#categories: lower-cased, each once, in order.
    return "/".join(dict.fromkeys(c.lower() for c in categories))


@lru_cache(maxsize=1024)
def _slugified_categories(categories: tuple[str, ...]) -> str:
    return "/".join(dict.fromkeys(slugify(c) for c in categories))


def _basename(relpath: str) -> str:
    name = relpath.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def _cleaned_path(relpath: str) -> str:
    # Document#cleaned_relative_path: no extension, no "_posts", no final dots.
    stem = relpath.rsplit(".", 1)[0] if "." in relpath.rsplit("/", 1)[-1] else relpath
    return stem.replace("_posts", "", 1).rstrip(".")


def _output_ext(relpath: str) -> str:
    # Jekyll converts its markdown_ext (default) and .html to .html; any other file, such
    # as .mdown, is copied through with its own extension.
    name = relpath.rsplit("/", 1)[-1]
    ext = "." + name.rsplit(".", 1)[1] if "." in name else ""
    return ".html" if not ext or ext.lower() in _HTML_EXTS else ext


_PARTS: dict[str, Part] = {
    "categories": lambda d, c, s, p: _join_categories(c),
    "slugified_categories": lambda d, c, s, p: _slugified_categories(c),
    "title": lambda d, c, s, p: slugify(s, mode="pretty", cased=True),
    "slug": lambda d, c, s, p: slugify(s),
    "name": lambda d, c, s, p: slugify(_basename(p)),
    "path": lambda d, c, s, p: _cleaned_path(p),
    "collection": lambda d, c, s, p: "posts",
    "output_ext": lambda d, c, s, p: _output_ext(p),
    "year": lambda d, c, s, p: f"{d.year:04d}",
    "short_year": lambda d, c, s, p: f"{d.year % 100:02d}",
    "month": lambda d, c, s, p: f"{d.month:02d}",
    "i_month": lambda d, c, s, p: str(d.month),
    "short_month": lambda d, c, s, p: _MONTHS[d.month - 1][:3],
    "long_month": lambda d, c, s, p: _MONTHS[d.month - 1],
    "day": lambda d, c, s, p: f"{d.day:02d}",
    "i_day": lambda d, c, s, p: str(d.day),
    "y_day": lambda d, c, s, p: f"{d.timetuple().tm_yday:03d}",
    "w_year": lambda d, c, s, p: f"{d.isocalendar()[0]:04d}",
    "week": lambda d, c, s, p: f"{d.isocalendar()[1]:02d}",
    "w_day": lambda d, c, s, p: str(d.isoweekday()),
    "short_day": lambda d, c, s, p: _DAYS[d.weekday()][:3],
    "long_day": lambda d, c, s, p: _DAYS[d.weekday()],
    "hour": lambda d, c, s, p: f"{d.hour:02d}",
    "minute": lambda d, c, s, p: f"{d.minute:02d}",
    "second": lambda d, c, s, p: f"{d.second:02d}",
}
