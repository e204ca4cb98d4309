"""Post URLs exactly as Jekyll builds them.

The site's ``permalink`` is one of Jekyll's styles (``date``, ``pretty``,
``ordinal``, ``weekdate``, ``none``) or a pattern with placeholders; a post's
own ``permalink`` wins. Dates are taken in the site's timezone, as Jekyll does
when ``timezone`` is set. Non-ASCII parts are percent-encoded.

>>> from datetime import datetime, timezone
>>> d = datetime(2025, 9, 21, 2, 15, tzinfo=timezone.utc)
>>> post_path("date", d, ("投資分析",), "hello-world")
'/%E6%8A%95%E8%B3%87%E5%88%86%E6%9E%90/2025/09/21/hello-world.html'
>>> post_path("/:year/:title/", d, (), "hello-world")
'/2025/hello-world/'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote

from publisher.content.ids import slugify

__all__ = ["STYLES", "post_path"]

STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
_PLACEHOLDER = re.compile(r":([a-z_]+)")
_SAFE = "/-._~!$&'()*+,;=:@%"


def post_path(pattern: str, date: datetime, categories: tuple[str, ...], slug: str) -> str:
    """The path part of a post's URL (before ``url`` + ``baseurl``)."""
    template = STYLES.get(pattern, pattern)

    def replace(match: re.Match[str]) -> str:
        make = _PLACEHOLDERS.get(match[1])
        return match[0] if make is None else _quote(make(date, categories, slug))

    path = _PLACEHOLDER.sub(replace, template)
    path = re.sub(r"/{2,}", "/", "/" + path)
    return path if path.isascii() and " " not in path else quote(path, safe=_SAFE)


@lru_cache(maxsize=4096)
def _quote(value: str) -> str:
    # The same categories and date parts recur across thousands of posts.
    return quote(value, safe=_SAFE)


def _categories(date: datetime, categories: tuple[str, ...], slug: str) -> str:
    # Jekyll's Drops::UrlDrop: categories are lower-cased and de-duplicated.
    return "/".join(dict.fromkeys(c.lower() for c in categories))


def _fmt(spec: str) -> Callable[[datetime, tuple[str, ...], str], str]:
    return lambda date, categories, slug: date.strftime(spec)


_PLACEHOLDERS: dict[str, Callable[[datetime, tuple[str, ...], str], str]] = {
    "categories": _categories,
    "year": lambda d, c, s: f"{d.year:04d}",
    "short_year": lambda d, c, s: f"{d.year % 100:02d}",
    "month": lambda d, c, s: f"{d.month:02d}",
    "i_month": lambda d, c, s: str(d.month),
    "short_month": _fmt("%b"),
    "long_month": _fmt("%B"),
    "day": lambda d, c, s: f"{d.day:02d}",
    "i_day": lambda d, c, s: str(d.day),
    "y_day": lambda d, c, s: f"{d.timetuple().tm_yday:03d}",
    "week": lambda d, c, s: f"{d.isocalendar()[1]:02d}",
    "w_year": lambda d, c, s: str(d.isocalendar()[0]),
    "short_day": _fmt("%a"),
    "long_day": _fmt("%A"),
    "hour": lambda d, c, s: f"{d.hour:02d}",
    "minute": lambda d, c, s: f"{d.minute:02d}",
    "second": lambda d, c, s: f"{d.second:02d}",
    "title": lambda d, c, s: slugify(s, mode="pretty", cased=True),
    "slug": lambda d, c, s: slugify(s),
    "name": lambda d, c, s: slugify(s),
    "output_ext": lambda d, c, s: ".html",
}
