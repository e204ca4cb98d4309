"""Links from one post to another of the same site, and whether they reach a post.

A link is to a post when it is ``{% post_url NAME %}`` (Jekyll's tag) or an
internal link (root-relative, relative, or absolute to the site's ``url``)
whose path has the shape of the site's ``permalink`` (``/2025/09/01/x.html``
for ``date``). It is dead when no post's URL, as the build reads them, has
that path (``.html`` and a final ``/index.html`` ignored). A permalink
without a date (``/:title/``) gives pages and posts the same shape: then only
``post_url`` is checked, since ``/about/`` is not a post.

>>> index = LinkIndex.build("https://x.org", "date", ["https://x.org/2025/09/01/a.html"], ["a"])
>>> index.dead("/2025/09/01/a.html"), index.dead("/2025/09/02/b.html"), index.dead("/about/")
(False, True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from publisher.content.permalink import site_template

__all__ = ["LINK", "POST_URL", "LinkIndex"]

LINK = re.compile(r"\]\(\s*<?([^)\s>]+)|\bhref\s*=\s*[\"']([^\"']+)")
POST_URL = re.compile(r"\{%-?\s*post_url\s+([^\s%]+)\s*-?%\}")
_PLACEHOLDER = re.compile(r":([a-z_]+)")
_DATED = frozenset({"year", "month", "day", "i_month", "i_day", "short_year", "y_day", "week"})


@dataclass(frozen=True)
class LinkIndex:
    """The site's post URLs and file names, and the shape of a link to a post."""

    root: str
    paths: frozenset[str]
    names: frozenset[str]
    shape: re.Pattern[str] | None

    @classmethod
    def build(
        cls, root_url: str, permalink: str, urls: Iterable[str], names: Iterable[str]
    ) -> LinkIndex:
        """From the posts' ``url`` and their file names without extension."""
        root = root_url.rstrip("/")
        paths = frozenset(_normal(urlsplit(url).path, root) for url in urls)
        return cls(root, paths, frozenset(names), _shape(site_template(permalink)))

    def dead(self, link: str, base: str = "") -> bool:
        """Whether ``link`` (as written in a post at ``base``) is to a post that is not there."""
        absolute = urljoin(base or self.root + "/", link)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not absolute.startswith(self.root + "/"):
            return False
        path = _normal(parts.path, self.root)
        if self.shape is None or not self.shape.fullmatch(path):
            return False
        return path not in self.paths

    def dead_name(self, name: str) -> bool:
        """Whether ``{% post_url name %}`` names no post (Jekyll stops the build on it)."""
        stem = name.rsplit("/", 1)[-1]
        return stem not in self.names and stem.rsplit(".", 1)[0] not in self.names


def _normal(path: str, root: str) -> str:
    """The path after the site's base path, decoded, without ``.html`` or ``index.html``."""
    base = urlsplit(root).path.rstrip("/")
    path = unquote(path)
    if base and path.startswith(base + "/"):
        path = path[len(base) :]
    for suffix in ("index.html", ".html"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    return path


def _shape(template: str) -> re.Pattern[str] | None:
    """A pattern for paths of that template, or None when posts and pages look alike."""
    names = _PLACEHOLDER.findall(template)
    if not _DATED & set(names):
        return None
    pattern, last = "", 0
    for match in _PLACEHOLDER.finditer(template):
        pattern += re.escape(template[last : match.start()])
        name = match.group(1)
        pattern += r"\d+" if name in _DATED else (".*" if name == "categories" else "[^/]*")
        last = match.end()
    pattern += re.escape(template[last:])
    return re.compile(_normal_pattern(pattern))


def _normal_pattern(pattern: str) -> str:
    # Paths are compared without .html: the template's own ending goes too, and
    # an empty :categories leaves "//", which Jekyll turns into "/".
    pattern = pattern.replace(re.escape(".html"), "")
    return pattern.replace("/.*/", "/(?:.*/)?")
