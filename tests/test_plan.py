from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from publisher.config import load_settings
from publisher.content import read_posts
from publisher.feeds import plan_feeds


def _plans(site: Path, now: datetime, **env: str):  # type: ignore[no-untyped-def]
    settings = load_settings(site, environ={f"PUBLISHER_{k.upper()}": v for k, v in env.items()})
    return plan_feeds(read_posts(site, settings, now).posts, settings)


def test_one_site_feed_per_format_one_atom_per_category_and_tag(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    write_post("2025-09-01-a.md", "title: A\ncategories: [投資分析, Tech]\ntags: [AI]")
    write_post("2025-09-02-b.md", "title: B\ncategory: Tech\ntags: ai chips")
    (site / "publisher.toml").write_text(
        '[categories]\n"投資分析" = "investment"\n', encoding="utf-8"
    )
    plans, problems = _plans(site, now)
    assert [(p.path, p.format, [x.title for x in p.posts]) for p in plans] == [
        ("feeds/atom.xml", "atom", ["B", "A"]),
        ("feeds/rss.xml", "rss", ["B", "A"]),
        ("feeds/feed.json", "json", ["B", "A"]),
        ("feeds/categories/investment.xml", "atom", ["A"]),
        ("feeds/categories/tech.xml", "atom", ["B", "A"]),
        ("feeds/tags/ai.xml", "atom", ["B", "A"]),
        ("feeds/tags/chips.xml", "atom", ["B"]),
    ]
    # "AI" and "ai" share a slug: reported, and their posts share the feed.
    assert len(problems) == 1
    assert "'AI' and 'ai' both map to the feed slug 'ai'" in problems[0].reason


def test_limit_keeps_the_newest_and_updated_is_the_newest_entry(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    for day in range(1, 11):
        write_post(
            f"2025-09-{day:02d}-p{day}.md", f"title: P{day}\ndate: 2025-09-{day:02d} 10:00 +0900"
        )
    write_post("2025-08-01-old.md", "title: Old\nlast_modified_at: 2025-10-01 00:00 +0900")
    plans, _ = _plans(site, now, feeds__limit="3")
    site_feed = plans[0]
    assert [p.title for p in site_feed.posts] == ["P10", "P9", "P8"]
    assert site_feed.updated.isoformat() == "2025-09-10T10:00:00+09:00"


@pytest.mark.parametrize(
    ("env", "paths"),
    [
        (
            {"feeds__tags": "false"},
            ["feeds/atom.xml", "feeds/rss.xml", "feeds/feed.json", "feeds/categories/c.xml"],
        ),
        (
            {"feeds__categories": "false", "feeds__formats": "['atom']"},
            ["feeds/atom.xml", "feeds/tags/t.xml"],
        ),
        (
            {"feeds__dir": "'xml'", "feeds__formats": "['json']"},
            ["xml/feed.json", "xml/categories/c.xml", "xml/tags/t.xml"],
        ),
    ],
)
def test_settings_choose_the_feeds(
    site: Path,
    write_post: Callable[..., Path],
    now: datetime,
    env: dict[str, str],
    paths: list[str],
) -> None:
    write_post("2025-09-01-a.md", "title: A\ncategories: [c]\ntags: [t]")
    plans, _ = _plans(site, now, **env)
    assert [p.path for p in plans] == paths
