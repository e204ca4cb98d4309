"""Feed file names for categories and tags: configured, else a safe form of the name.

>>> feed_slug("投資分析", {})
'投資分析'
>>> feed_slug("投資分析", {"投資分析": "investment"})
'investment'
>>> feed_slug("../etc", {})
'etc'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

__all__ = ["feed_slug"]

_FEED_RE = re.compile(r"[^\w.-]+")
_MAX_SLUG = 100


def feed_slug(name: str, mapping: Mapping[str, str]) -> str:
    """The file name (without ``.xml``) of a category or tag feed.

    From the configured mapping if the name is there, else a safe form of the
    name itself: Unicode letters and digits kept, never a path separator, never
    a leading dot, so a slug cannot leave the output folder.
    """
    configured = mapping.get(name)
    if configured is not None:
        return _safe(configured)
    return _safe(name.lower())


def _safe(text: str) -> str:
    slug = _FEED_RE.sub("-", text).strip("-.")
    slug = re.sub(r"-{2,}", "-", slug)
    if not slug:
        slug = "x-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    if len(slug) > _MAX_SLUG:
        slug = slug[:_MAX_SLUG].rstrip("-.") + "-" + hashlib.sha1(text.encode()).hexdigest()[:8]
    return slug
