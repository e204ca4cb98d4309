"""FeedPlan → JSON Feed 1.1 (https://jsonfeed.org/version/1.1) bytes.

>>> render_json(plan, html, settings)[:40]           # doctest: +SKIP
b'{\\n  "version": "https://jsonfeed.org/ver'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from publisher.config import Settings
from publisher.feeds.plan import FeedPlan

__all__ = ["render_json"]


def render_json(plan: FeedPlan, html: Mapping[str, str], settings: Settings) -> bytes:
    """The JSON Feed document for ``plan``, keys in the spec's order, UTF-8."""
    site = settings.site
    items: list[dict[str, Any]] = []
    for post in plan.posts:
        item: dict[str, Any] = {
            "id": post.id,
            "url": post.url,
            "title": post.title,
            "summary": post.excerpt,
            "date_published": post.date.isoformat(),
            "date_modified": post.updated.isoformat(),
        }
        body = html.get(post.id)
        if settings.feeds.content == "full" and body is not None:
            item["content_html"] = body
        else:
            item["content_text"] = post.excerpt
        if post.author:
            item["authors"] = [{"name": post.author}]
        if post.categories or post.tags:
            item["tags"] = list(dict.fromkeys(post.categories + post.tags))
        items.append(item)
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": plan.title,
        "home_page_url": plan.home_url,
        "feed_url": plan.url,
        "description": plan.subtitle,
        "language": site.lang,
        "authors": [{"name": site.author or site.title}],
        "items": items,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
