"""Helpers shared by the digest tests: Post objects without files, settings variants."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from publisher.config import Settings, load_settings
from publisher.content import read_posts
from publisher.digest.edition import select_posts
from publisher.digest.render import DigestContent, render_digest
from publisher.models import Post

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "digest"
EXAMPLE_NOW = datetime.fromisoformat("2025-11-20T09:00:00+09:00")
ADDRESS = "〒100-0001 東京都千代田区千代田1-1\nテスト編集部"


def example_digest() -> tuple[DigestContent, Settings]:
    """The example site's edition covering the 30 days before 2025-11-20 09:00 JST."""
    site = ROOT / "examples" / "site"
    settings = with_digest(load_settings(site, environ={}), postal_address=ADDRESS)
    posts = select_posts(read_posts(site, settings, EXAMPLE_NOW).posts, None, EXAMPLE_NOW, 30)
    return render_digest(posts, number=7, cutoff=EXAMPLE_NOW, settings=settings), settings


def style_blocks(markup: str) -> str:
    return "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", markup, re.S))


def make_post(when: str, slug: str = "post", **fields: Any) -> Post:
    """A Post dated ``when`` (ISO 8601); other fields by keyword."""
    date = datetime.fromisoformat(when)
    values: dict[str, Any] = {
        "source": f"/site/_posts/{slug}.md",
        "path": f"_posts/{slug}.md",
        "title": f"Title of {slug}",
        "date": date,
        "updated": date,
        "slug": slug,
        "url": f"https://blog.example.com/{slug}.html",
        "id": f"tag:blog.example.com,2025:{slug}",
        "excerpt": f"Excerpt of {slug}.",
    }
    values.update(fields)
    return Post(**values)


def with_site(settings: Settings, **fields: Any) -> Settings:
    return msgspec.structs.replace(settings, site=msgspec.structs.replace(settings.site, **fields))


def with_digest(settings: Settings, **fields: Any) -> Settings:
    digest = msgspec.structs.replace(settings.digest, **fields)
    return msgspec.structs.replace(settings, digest=digest)
