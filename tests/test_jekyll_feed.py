"""``[feeds] jekyll_feed``: the feeds jekyll-feed wrote, as it wrote them, so no reader notices.

Every expected value here comes from the real Jekyll with the real
jekyll-feed (Debian's ``jekyll`` and ``ruby-jekyll-feed``, or the program
named by ``PUBLISHER_TEST_JEKYLL``), run offline on a site the test writes;
without both the tests skip. publisher then builds the same site with
``jekyll_feed = true`` and must write the same files holding the same
entries: the same ids (so a reader sees no post again as new), titles,
links, published and updated instants, authors and categories, in the same
order. Last, the switch as the README tells it: jekyll-feed removed from
``plugins``, ``publisher build`` into the site, then ``jekyll build``.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from jekyll_support import find_jekyll
from jekyll_support import jekyll_build as build_with_jekyll
from state_support import ok, publisher

from publisher.app import BuildRequest, build_feeds

CONFIG = """\
title: "Tsumiki's Notes -- 分析"
description: 日本語と English の分析ブログ
url: https://blog.example.com
baseurl: /blog
timezone: Asia/Tokyo
lang: ja
author: Tsumiki Editorial
plugins: [jekyll-feed]
exclude: [publisher.toml]
feed:
  categories: [投資分析, Policy, AI, Empty]
  tags: true
"""
POSTS = {
    "2025-09-01-hello.md": 'title: "Don\'t panic -- it\'s \\"fine\\"..."\n'
    "date: 2025-09-01 09:00:00 +0900\ncategories: [AI]\ntags: [ml]",
    "2025-09-02-kabuka.md": "title: 株価の見通し「2025年」\ndate: 2025-09-02 18:30:00 +0900\n"
    "last_modified_at: 2025-09-10 12:00:00 +0900\ncategories: [投資分析]\ntags: [economy, 日本]",
    # Two posts dated only by their file names: a tie, which jekyll-feed breaks by path.
    "2025-09-03-bbb.md": "title: Chips, again & again\ncategories: [AI, 投資分析]\n"
    "tags: [semis, ml]",
    "2025-09-03-aaa.md": "title: 半導体の話\ncategory: 投資分析\ntags: semis",
    "2025-09-04-policy.md": "title: Policy 'notes' --- week 36\ndate: 2025-09-04 20:00:00 +0000\n"
    'categories: [Policy]\nexcerpt: "An explicit excerpt, by hand."',
    "2025-09-05-slugged.md": "title: 日本語の政策メモ\nslug: seisaku-memo\n"
    "date: 2025-09-05 10:00:00 +0900\ncategories: [Policy]",
    "2025-09-06-own.md": "title: Own permalink\npermalink: /notes/own/\n"
    "date: 2025-09-06 12:00:00 +0900\ncategories: [AI]",
    "2025-09-07-yaml-date.md": "title: YAMLの日付\ndate: 2025-09-07\ntags: [economy]",
    "2025-09-08-guest.md": "title: Guest post\nauthor: Guest Writer\ncategories: [Policy]\n"
    "tags: [ml]",
    "2025-09-09-yen.md": "title: 円安と金利 -- 解説\ndate: 2025-09-09 21:00:00 +0900\n"
    "categories: [投資分析]",
    "2025-09-10-latest.md": 'title: "Latest: what\'s next?"\ndate: 2025-09-10 08:00:00 +0900\n'
    "categories: [AI, Policy]\ntags: [ml, economy]",
    "2025-09-11-ja-only.md": "title: まとめ\ndate: 2025-09-11 07:00:00 +0900\n"
    "categories: [投資分析]\ntags: [economy]",
}
BODY = "First paragraph of {name}, with *emphasis*.\n\n二段落目の本文です。\n"


def jekyll_build(site: Path) -> None:
    """``jekyll build`` in ``site``, offline; skips the test when jekyll-feed is not installed."""
    result = build_with_jekyll(site, need_feed=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def site(tmp_path: Path) -> Path:
    find_jekyll()
    root = tmp_path / "site"
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(CONFIG, encoding="utf-8")
    for name, front in POSTS.items():
        body = BODY.format(name=name.removesuffix(".md")[11:])
        (root / "_posts" / name).write_text(f"---\n{front}\n---\n{body}", encoding="utf-8")
    (root / "publisher.toml").write_text("[feeds]\njekyll_feed = true\n", encoding="utf-8")
    return root


def _feed_config(site: Path, extra: str) -> None:
    config = site / "_config.yml"
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")


def _publisher_toml(site: Path, extra: str) -> None:
    (site / "publisher.toml").write_text(f"[feeds]\njekyll_feed = true\n{extra}", encoding="utf-8")


def _jekyll_feeds(folder: Path) -> set[str]:
    """The feeds jekyll-feed writes under ``folder``: every .xml but publisher's own feeds/."""
    found = {p.relative_to(folder).as_posix() for p in folder.glob("**/*.xml")}
    return {path for path in found if not path.startswith(("feeds/", "_site/"))}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _entries(path: Path) -> list[dict[str, Any]]:
    """What a reader takes from each entry, in order (instants as aware datetimes)."""
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    return [
        {
            "id": e.id,
            "title": e.title,
            "link": e.link,
            "published": _instant(e.published),
            "updated": _instant(e.updated),
            "author": e.get("author", ""),
            "terms": [t.term for t in e.get("tags", [])],
            "content": bool(e.get("content")),
        }
        for e in parsed.entries
    ]


def _head(path: Path) -> dict[str, Any]:
    feed = feedparser.parse(path.read_bytes()).feed
    links = {link.rel: link.href for link in feed.links}
    return {"id": feed.id, "title": feed.title, "self": links["self"], "home": links["alternate"]}


def _publisher_build(site: Path, output: Path) -> None:
    report = build_feeds(BuildRequest(site_dir=site, output_dir=output))
    assert report.exit_code == 0, report.problems


def _compare(site: Path, output: Path) -> set[str]:
    """Every jekyll-feed feed in ``_site/`` against publisher's in ``output``; the paths."""
    jekyll, ours = site / "_site", output
    paths = _jekyll_feeds(jekyll)
    assert _jekyll_feeds(ours) == paths
    for path in sorted(paths):
        assert _head(ours / path) == _head(jekyll / path), path
        assert _entries(ours / path) == _entries(jekyll / path), path
    return paths


def test_publisher_writes_jekyll_feeds_feeds_with_the_same_entries(
    site: Path, tmp_path: Path
) -> None:
    jekyll_build(site)
    _publisher_build(site, tmp_path / "out")
    paths = _compare(site, tmp_path / "out")
    assert paths == {
        "feed.xml",
        "feed/投資分析.xml",
        "feed/Policy.xml",
        "feed/AI.xml",
        "feed/Empty.xml",
        "feed/by_tag/ml.xml",
        "feed/by_tag/economy.xml",
        "feed/by_tag/semis.xml",
    }
    entries = _entries(tmp_path / "out" / "feed.xml")
    assert len(entries) == 10  # feed.posts_limit's default, of 12 posts
    hello = next(e for e in _entries(site / "_site" / "feed/AI.xml") if "panic" in e["title"])
    assert hello["id"] == "https://blog.example.com/blog/ai/2025/09/01/hello"
    assert hello["title"] == "Don’t panic – it’s “fine”…"
    assert all(e["content"] for e in entries)
    # publisher's own feeds are still written, with their tag: ids.
    own = _entries(tmp_path / "out" / "feeds" / "atom.xml")
    assert own[0]["id"] == "tag:blog.example.com,2025-09-11:ja-only"


def test_posts_limit_and_excerpt_only_are_honoured(site: Path, tmp_path: Path) -> None:
    _feed_config(site, "  posts_limit: 3\n  excerpt_only: true\n")
    jekyll_build(site)
    _publisher_build(site, tmp_path / "out")
    _compare(site, tmp_path / "out")
    entries = _entries(tmp_path / "out" / "feed.xml")
    assert [e["title"] for e in entries] == ["まとめ", "Latest: what’s next?", "円安と金利 – 解説"]
    assert not any(e["content"] for e in entries)


def test_jekyll_feed_until_gives_newer_posts_tag_ids(site: Path, tmp_path: Path) -> None:
    jekyll_build(site)
    # 2025-09-08's post is dated exactly at the cut-off: it is not after it, so it keeps its id.
    _publisher_toml(site, 'jekyll_feed_until = "2025-09-08T00:00:00+09:00"\n')
    _publisher_build(site, tmp_path / "out")
    theirs = _entries(site / "_site" / "feed.xml")
    ours = _entries(tmp_path / "out" / "feed.xml")
    cutoff = _instant("2025-09-08T00:00:00+09:00")
    assert [e["title"] for e in ours] == [e["title"] for e in theirs]
    for mine, jekylls in zip(ours, theirs, strict=True):
        if jekylls["published"] > cutoff:
            assert mine["id"].startswith("tag:blog.example.com,2025-09-"), mine
        else:
            assert mine["id"] == jekylls["id"]
    assert ours[0]["id"] == "tag:blog.example.com,2025-09-11:ja-only"
    guest = next(e for e in ours if e["title"] == "Guest post")
    assert guest["id"] == "https://blog.example.com/blog/policy/2025/09/08/guest"


def test_the_switch_publisher_into_the_site_then_jekyll_without_jekyll_feed(site: Path) -> None:
    jekyll_build(site)  # before: jekyll-feed's feeds, as readers know them
    before = {path: _entries(site / "_site" / path) for path in _jekyll_feeds(site / "_site")}
    config = site / "_config.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("plugins: [jekyll-feed]\n", ""), encoding="utf-8")
    shutil.rmtree(site / "_site")

    ok(publisher("build", "--site", str(site), cwd=site))
    assert (site / "feed.xml").is_file()
    jekyll_build(site)

    published = site / "_site"
    assert _jekyll_feeds(published) == set(before)
    for path, entries in before.items():
        feed = feedparser.parse((published / path).read_bytes()).feed
        assert feed.generator == "publisher", path
        mine = _entries(published / path)
        assert [e["id"] for e in mine] == [e["id"] for e in entries], path
        assert [(e["title"], e["link"], e["published"]) for e in mine] == [
            (e["title"], e["link"], e["published"]) for e in entries
        ], path
    assert (published / "feeds" / "atom.xml").is_file()
    assert not (published / "publisher.toml").exists()


TITLES = [
    "He said, \"'Quoted' words in a larger quote.\"",
    "the '80s -- and the '90s",
    "Rock 'n' roll <em>forever</em>",
    "R&D, M&amp;A &copy; 2025 &foo; 1 < 2",
    "<< guillemets >> \\<< kept",
    '日本語の「引用」と"quotes"',
    'AT&T\'s "new" plan --- now...',
    "5'10\" tall",
]


def test_titles_urls_and_tag_settings_match_jekyll_feed(site: Path, tmp_path: Path) -> None:
    # A url with upper case, the default port and a trailing slash (Jekyll doubles the next
    # slash), no baseurl; feed.path without its slash; tags with only, except and a path.
    config = site / "_config.yml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("url: https://blog.example.com\nbaseurl: /blog\n", "")
    text = text.replace("  tags: true\n", "  path: atom.xml\n")
    config.write_text(
        "url: https://Blog.Example.com:443/\n"
        + text
        + "  tags: {only: [ml, semis, economy], except: [semis], path: /t/}\n",
        encoding="utf-8",
    )
    for number, title in enumerate(TITLES, start=1):
        front = f"title: {json.dumps(title)}\ndate: 2025-10-{number:02d} 12:00:00 +0900\ntags: [ml]"
        (site / "_posts" / f"2025-10-{number:02d}-t{number}.md").write_text(
            f"---\n{front}\n---\nBody.\n", encoding="utf-8"
        )
    jekyll_build(site)
    _publisher_build(site, tmp_path / "out")
    paths = _compare(site, tmp_path / "out")
    assert {"atom.xml", "t/ml.xml", "t/economy.xml", "feed/AI.xml"} <= paths
    assert "t/semis.xml" not in paths
    head = _head(tmp_path / "out" / "atom.xml")
    assert head["id"] == "https://blog.example.com//atom.xml"
    titles = [e["title"] for e in _entries(site / "_site" / "atom.xml")]
    # smartify as kramdown does it: a quote after a Japanese character closes.
    assert titles[1:3] == ["AT&amp;T’s “new” plan — now…", "日本語の「引用」と”quotes”"]


def test_a_feed_xml_of_the_sites_own_is_left_alone(tmp_path: Path) -> None:
    # jekyll-feed writes no feed where the site has a file of its own; neither does publisher.
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text(
        "url: https://x.org\nfeed: {categories: [AI]}\n", encoding="utf-8"
    )
    (site / "_posts" / "2025-09-01-a.md").write_text(
        "---\ntitle: A\ncategories: [AI]\n---\nBody.\n", encoding="utf-8"
    )
    _publisher_toml(site, "")
    own = "---\nlayout: null\n---\n<feed>{{ site.title }}</feed>\n"
    (site / "feed.xml").write_text(own, encoding="utf-8")

    report = build_feeds(BuildRequest(site_dir=site))
    assert report.exit_code == 1
    assert [(p.path, "left alone" in p.reason) for p in report.problems] == [("feed.xml", True)]
    assert (site / "feed.xml").read_text(encoding="utf-8") == own
    assert "feed/AI.xml" in report.written

    # publisher's own feed.xml is publisher's even when its cache is gone.
    (site / "feed.xml").unlink()
    assert build_feeds(BuildRequest(site_dir=site)).exit_code == 0
    shutil.rmtree(site / ".publisher" / "cache")
    (site / "_posts" / "2025-09-02-b.md").write_text("---\ntitle: B\n---\nB.\n", encoding="utf-8")
    report = build_feeds(BuildRequest(site_dir=site))
    assert report.exit_code == 0, report.problems
    titles = [e["title"] for e in _entries(site / "feed.xml")]
    assert titles == ["B", "A"]


@pytest.mark.samples
def test_the_customers_posts_keep_their_jekyll_feed_entries(
    tmp_path: Path, sample_posts: list[Path]
) -> None:
    find_jekyll()
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text(
        "title: 分析ブログ\nurl: https://analysis.example.jp\ntimezone: Asia/Tokyo\nlang: ja\n"
        "plugins: [jekyll-feed]\nexclude: [publisher.toml]\n"
        "feed:\n  categories: [投資分析, 業界別AI活用]\n  tags: true\n",
        encoding="utf-8",
    )
    for path in sample_posts:
        front = path.read_text(encoding="utf-8").split("---", 2)[1]
        day = re.search(r"^date:\s*\"?(\d{4}-\d{2}-\d{2})", front, re.M)
        assert day, path
        shutil.copyfile(path, site / "_posts" / f"{day[1]}-{path.stem}.md")
    _publisher_toml(site, "")
    jekyll_build(site)
    _publisher_build(site, tmp_path / "out")
    paths = _jekyll_feeds(site / "_site")
    assert _jekyll_feeds(tmp_path / "out") == paths
    assert {"feed.xml", "feed/投資分析.xml", "feed/業界別AI活用.xml", "feed/by_tag/AI.xml"} <= paths
    for path in sorted(paths):
        # Links too: the customer's file names ("000_f2…") keep their "_", as Jekyll's do.
        assert _entries(tmp_path / "out" / path) == _entries(site / "_site" / path), path
