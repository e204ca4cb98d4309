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


def _jekyll_site(site: Path, feed: str, url: str = "https://blog.example.com") -> None:
    (site / "_config.yml").write_text(
        f"title: Notes\nurl: {url}\nbaseurl: /blog\ntimezone: Asia/Tokyo\nfeed:\n{feed}",
        encoding="utf-8",
    )
    (site / "publisher.toml").write_text("[feeds]\njekyll_feed = true\n", encoding="utf-8")


def test_jekyll_feed_plans_jekyll_feeds_files_besides_publishers(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    # jekyll-feed: listed categories always get a feed (Empty too); tags only of [A-Za-z0-9_]
    # (日本 gets none), `only` minus `except`, prefixed with `path` as it is.
    _jekyll_site(
        site,
        "  path: atom.xml\n  categories: [AI, Empty]\n"
        "  tags: {only: [ml, 日本, chips, nobody], except: [chips], path: t/}\n",
    )
    write_post("2025-09-01-a.md", "title: A\ncategories: [AI]\ntags: [ml, 日本, chips]")
    write_post("2025-09-02-b.md", "title: B\ncategories: [ai]")
    plans, problems = _plans(site, now)
    jekyll = [(p.path, p.kind, [x.title for x in p.posts]) for p in plans if p.style != "publisher"]
    assert jekyll == [
        ("atom.xml", "site", ["B", "A"]),
        ("feed/AI.xml", "category", ["A"]),  # exactly "AI": not "ai"
        ("feed/Empty.xml", "category", []),
        ("t/ml.xml", "tag", ["A"]),
    ]
    assert [p.title for p in plans if p.style != "publisher"][:2] == ["Notes", "Notes | Ai"]
    assert not [p for p in problems if "jekyll-feed" in p.reason]  # ("AI"/"ai": publisher's own)
    assert next(p.path for p in plans if p.style == "publisher") == "feeds/atom.xml"


def test_jekyll_feed_off_plans_only_publishers_feeds(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    _jekyll_site(site, "  categories: [AI]\n")
    (site / "publisher.toml").unlink()
    write_post("2025-09-01-a.md", "title: A\ncategories: [AI]")
    plans, _ = _plans(site, now)
    assert {p.style for p in plans} == {"publisher"}
    assert not any(p.path.startswith("feed") and not p.path.startswith("feeds/") for p in plans)


def test_a_jekyll_feed_on_one_of_publishers_paths_is_reported_not_written(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    _jekyll_site(site, "  path: /feeds/atom.xml\n")
    write_post("2025-09-01-a.md", "title: A")
    plans, problems = _plans(site, now)
    assert [p.style for p in plans if p.path == "feeds/atom.xml"] == ["publisher"]
    assert len(problems) == 1 and "feeds/atom.xml is also one of publisher's" in problems[0].reason


def test_jekyll_feed_entry_ids_are_jekylls_document_ids(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    # Values from jekyll 4.3.1 + jekyll-feed 0.17: the URL's folder + the slug, through
    # Addressable's normalisation (a url ending in "/" doubles the slash, as Jekyll's does).
    _jekyll_site(site, "  categories: []\n", url="https://Blog.Example.com/")
    write_post("2025-09-03-slugged.md", "title: S\nslug: custom\npermalink: /p/:title/")
    write_post("2025-09-02-beta.md", "title: B\ncategories: [投資分析]")
    write_post("2025-09-01-hello.md", "title: H\ndate: 2025-09-01 10:00:00 +0900")
    plans, _ = _plans(site, now)
    feed = next(p for p in plans if p.path == "feed.xml")
    assert feed.entry_ids == (
        "https://blog.example.com//blog/p/custom",
        "https://blog.example.com//blog/%E6%8A%95%E8%B3%87%E5%88%86%E6%9E%90/2025/09/02/beta",
        "https://blog.example.com//blog/2025/09/01/hello",
    )
    assert feed.url == feed.id == "https://blog.example.com//blog/feed.xml"


def test_jekyll_feed_until_gives_later_posts_publishers_ids(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    _jekyll_site(site, "  categories: []\n")
    (site / "publisher.toml").write_text(
        '[feeds]\njekyll_feed = true\njekyll_feed_until = "2025-09-02T10:00:00+09:00"\n',
        encoding="utf-8",
    )
    write_post("2025-09-02-at.md", "title: At\ndate: 2025-09-02 10:00:00 +0900")
    write_post("2025-09-02-after.md", "title: After\ndate: 2025-09-02 10:00:01 +0900")
    plans, _ = _plans(site, now)
    feed = next(p for p in plans if p.path == "feed.xml")
    assert feed.entry_ids == (
        "tag:blog.example.com,2025-09-02:after",
        "https://blog.example.com/blog/2025/09/02/at",
    )
