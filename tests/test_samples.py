"""The first customer's real posts (../shared/sample-posts), read in place, never copied in."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
import yaml

from publisher.app import BuildReport, BuildRequest, build_feeds


def _jekyll_name(path: Path) -> str:
    front = path.read_text(encoding="utf-8").split("---", 2)[1]
    day = re.search(r"^date:\s*\"?(\d{4}-\d{2}-\d{2})", front, re.M)
    assert day, path
    return f"{day[1]}-{path.stem}.md"


@pytest.fixture
def built(site: Path, sample_posts: list[Path], now: datetime) -> tuple[Path, BuildReport]:
    """The customer's posts copied into a temp site under Jekyll names, then built."""
    for path in sample_posts:
        shutil.copyfile(path, site / "_posts" / _jekyll_name(path))
    out = site.parent / "out"
    return out, build_feeds(BuildRequest(site_dir=site, output_dir=out, now=now))


def test_every_sample_post_is_published_in_its_category_feed(
    built: tuple[Path, BuildReport], sample_posts: list[Path]
) -> None:
    out, report = built
    assert report.problems == ()
    assert report.published == len(sample_posts) == report.files
    for path in sample_posts:
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("---", 2)[1])
        (category,) = meta["categories"]
        # README: a category feed is named after the category, lower-cased, letters
        # and digits of any script kept (the customer's categories are one word each).
        assert category.isalnum(), category
        feed = feedparser.parse((out / "feeds/categories" / f"{category.lower()}.xml").read_bytes())
        assert not feed.bozo
        entry = next(e for e in feed.entries if e.title == meta["title"])
        # The date exactly as the post says it, offset included.
        day, time, offset = meta["date"].split()
        assert entry.published == f"{day}T{time}{offset[:3]}:{offset[3:]}"
        assert entry.summary == meta["excerpt"]
        assert [t.term for t in entry.tags] == [category, *meta["tags"]]
        assert entry.author == meta["author"]
        assert len(entry.content[0].value) > 10_000  # the long body, rendered


def test_sample_post_dates_land_in_jekyll_urls_in_tokyo_time(
    built: tuple[Path, BuildReport],
) -> None:
    out, _ = built
    feed = feedparser.parse((out / "feeds/atom.xml").read_bytes())
    for entry in feed.entries:
        published = datetime.fromisoformat(entry.published)
        local = published.astimezone(ZoneInfo("Asia/Tokyo"))
        assert f"/{local:%Y/%m/%d}/" in entry.link
