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
from datetime import datetime
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
    values = _placeholders(date, categories, slug)

    def replace(match: re.Match[str]) -> str:
        value = values.get(match[1])
        return match[0] if value is None else quote(value, safe=_SAFE)

    path = _PLACEHOLDER.sub(replace, template)
    path = re.sub(r"/{2,}", "/", "/" + path)
    return quote(path, safe=_SAFE)


def _placeholders(date: datetime, categories: tuple[str, ...], slug: str) -> dict[str, str]:
    # Jekyll's Drops::UrlDrop: categories are lower-cased and de-duplicated.
    cats = list(dict.fromkeys(c.lower() for c in categories))
    iso_year, iso_week, _ = date.isocalendar()
    return {
        "categories": "/".join(cats),
        "year": f"{date.year:04d}",
        "short_year": f"{date.year % 100:02d}",
        "month": f"{date.month:02d}",
        "i_month": str(date.month),
        "short_month": date.strftime("%b"),
        "long_month": date.strftime("%B"),
        "day": f"{date.day:02d}",
        "i_day": str(date.day),
        "y_day": f"{date.timetuple().tm_yday:03d}",
        "week": f"{iso_week:02d}",
        "w_year": str(iso_year),
        "short_day": date.strftime("%a"),
        "long_day": date.strftime("%A"),
        "hour": f"{date.hour:02d}",
        "minute": f"{date.minute:02d}",
        "second": f"{date.second:02d}",
        "title": slugify(slug, mode="pretty", cased=True),
        "slug": slugify(slug),
        "name": slugify(slug),
        "output_ext": ".html",
    }
