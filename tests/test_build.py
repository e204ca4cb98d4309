"""build_feeds end to end on real files: feeds parse back, rebuilds are stable."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from publisher.app import BuildRequest, build_feeds

ATOM = "{http://www.w3.org/2005/Atom}"


def _build(site: Path, now: datetime, **kwargs: object):  # type: ignore[no-untyped-def]
    return build_feeds(
        BuildRequest(site_dir=site, output_dir=site.parent / "out", now=now, **kwargs)
    )  # type: ignore[arg-type]


@pytest.fixture
def blog(site: Path, write_post: Callable[..., Path]) -> Path:
    write_post(
        "2025-09-21-korea-ai.md",
        'title: "韓国AI、世界3位"\ndate: 2025-09-21 02:15:11 +0000\ncategories: ["投資分析"]\n'
        'tags: ["AI", "投資"]\nexcerpt: "韓国AIについて詳細に分析します。"',
        "韓国AI、世界3位\n\n本文です。[前回](/2025/09/01/hello.html)\n\n### 見出し\n\n**太字**。\n",
    )
    write_post(
        "2025-09-01-hello.md",
        "title: Hello & welcome <3\ncategories: Engineering\ntags: [AI]",
        "First paragraph with <script>alert(1)</script> text.\n",
    )
    write_post("2025-09-30-broken.md", "title: Broken\ntags: [oops", "x")
    return site


def test_every_feed_parses_back_without_errors(blog: Path, now: datetime) -> None:
    report = _build(blog, now)
    assert report.exit_code == 1
    assert str(report.problems[0]).startswith("_posts/2025-09-30-broken.md:3: invalid YAML")
    out = blog.parent / "out" / "feeds"
    xml_files = sorted(out.rglob("*.xml"))
    assert {p.relative_to(out).as_posix() for p in xml_files} == {
        "atom.xml",
        "rss.xml",
        "categories/投資分析.xml",
        "categories/engineering.xml",
        "tags/ai.xml",
        "tags/投資.xml",
    }
    for path in xml_files:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        ids = [e.id for e in parsed.entries]
        assert len(ids) == len(set(ids)) > 0


def test_atom_entry_fields(blog: Path, now: datetime) -> None:
    _build(blog, now)
    feed = feedparser.parse((blog.parent / "out/feeds/categories/投資分析.xml").read_bytes())
    assert feed.feed.title == "テストブログ - 投資分析"
    assert feed.feed.language == "ja"
    assert feed.feed.updated == "2025-09-21T02:15:11+00:00"
    (entry,) = feed.entries
    assert entry.title == "韓国AI、世界3位"
    assert entry.published == "2025-09-21T02:15:11+00:00"
    assert entry.updated == "2025-09-21T02:15:11+00:00"
    assert entry.id == "tag:blog.example.com,2025-09-21:korea-ai"
    assert (
        entry.link
        == "https://blog.example.com/%E6%8A%95%E8%B3%87%E5%88%86%E6%9E%90/2025/09/21/korea-ai.html"
    )
    assert entry.summary == "韓国AIについて詳細に分析します。"
    assert entry.author == "テスト編集部"
    assert [t.term for t in entry.tags] == ["投資分析", "AI", "投資"]
    html = entry.content[0].value
    assert "<h3>見出し</h3>" in html
    assert 'href="https://blog.example.com/2025/09/01/hello.html"' in html
    links = {link.rel: link.href for link in feed.feed.links}
    assert (
        links["self"]
        == "https://blog.example.com/feeds/categories/%E6%8A%95%E8%B3%87%E5%88%86%E6%9E%90.xml"
    )


def test_atom_document_details(blog: Path, now: datetime) -> None:
    _build(blog, now)
    data = (blog.parent / "out/feeds/atom.xml").read_bytes()
    assert data.splitlines()[1] == b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>'
    nested = (blog.parent / "out/feeds/tags/ai.xml").read_bytes()
    assert b'href="../feed.xsl"' in nested
    assert (blog.parent / "out/feeds/feed.xsl").is_file()
    root = etree.fromstring(data)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "ja"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "韓国AI、世界3位",
        "Hello & welcome <3",
    ]
    hello = entries[1]
    assert "<script" not in hello.findtext(f"{ATOM}content")
    assert hello.findtext(f"{ATOM}summary") == "First paragraph with text."


def test_rss_and_json_twins(blog: Path, now: datetime) -> None:
    import json

    _build(blog, now)
    rss = feedparser.parse((blog.parent / "out/feeds/rss.xml").read_bytes())
    assert not rss.bozo and rss.version == "rss20"
    assert [e.title for e in rss.entries] == ["韓国AI、世界3位", "Hello & welcome <3"]
    doc = json.loads((blog.parent / "out/feeds/feed.json").read_text(encoding="utf-8"))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["items"][0]["date_published"] == "2025-09-21T02:15:11+00:00"
    assert doc["items"][0]["tags"] == ["投資分析", "AI", "投資"]


def test_rebuild_is_byte_identical_and_writes_nothing(blog: Path, now: datetime) -> None:
    first = _build(blog, now)
    out = blog.parent / "out"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    second = _build(blog, now + timedelta(days=1))
    assert second.written == () and second.parsed == 0 and second.rendered == 0
    assert sorted(second.unchanged) == sorted(first.written)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_rebuild_without_cache_gives_the_same_bytes(blog: Path, now: datetime) -> None:
    import shutil

    _build(blog, now)
    out = blog.parent / "out"
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    shutil.rmtree(blog / ".publisher")
    shutil.rmtree(out)
    third = _build(blog, now)
    assert third.parsed == 3
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_changed_post_rewrites_only_its_feeds(blog: Path, now: datetime) -> None:
    _build(blog, now)
    post = blog / "_posts/2025-09-01-hello.md"
    post.write_text(post.read_text(encoding="utf-8").replace("First", "Edited"), encoding="utf-8")
    report = _build(blog, now)
    assert report.parsed == 1
    assert sorted(report.written) == [
        "feeds/atom.xml",
        "feeds/categories/engineering.xml",
        "feeds/feed.json",
        "feeds/rss.xml",
        "feeds/tags/ai.xml",
    ]


def test_a_touched_output_file_is_checked_again(blog: Path, now: datetime) -> None:
    _build(blog, now)
    target = blog.parent / "out/feeds/atom.xml"
    target.write_bytes(b"tampered")
    report = _build(blog, now)
    assert report.written == ("feeds/atom.xml",)
    assert target.read_bytes().startswith(b"<?xml")


def test_a_feed_that_no_longer_exists_is_removed(blog: Path, now: datetime) -> None:
    _build(blog, now)
    (blog / "_posts/2025-09-01-hello.md").unlink()
    report = _build(blog, now)
    assert "feeds/categories/engineering.xml" in report.removed
    assert not (blog.parent / "out/feeds/categories/engineering.xml").exists()


def test_future_post_appears_when_its_time_comes(
    blog: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    write_post("2025-12-24-xmas.md", "title: Xmas\ndate: 2025-12-24 09:00 +0900")
    early = _build(blog, now)
    assert early.scheduled == 1 and early.next_due is not None
    assert b"Xmas" not in (blog.parent / "out/feeds/atom.xml").read_bytes()
    later = _build(blog, early.next_due)
    assert "feeds/atom.xml" in later.written
    assert b"Xmas" in (blog.parent / "out/feeds/atom.xml").read_bytes()


def test_strict_writes_nothing(blog: Path, now: datetime) -> None:
    report = _build(blog, now, strict=True)
    assert report.aborted and report.exit_code == 2
    assert not (blog.parent / "out").exists()


def test_nothing_publishable_exits_2_and_writes_nothing(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    write_post("2025-09-30-broken.md", "title: [")
    report = _build(site, now)
    assert report.exit_code == 2 and report.written == ()


def test_clean_site_exits_0(site: Path, write_post: Callable[..., Path], now: datetime) -> None:
    write_post("2025-09-01-a.md", "title: A")
    assert _build(site, now).exit_code == 0


def test_excerpt_only_content(blog: Path, now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISHER_FEEDS__CONTENT", "excerpt")
    report = _build(blog, now)
    assert report.rendered == 0
    feed = feedparser.parse((blog.parent / "out/feeds/atom.xml").read_bytes())
    assert "content" not in feed.entries[0]
    assert feed.entries[0].summary == "韓国AIについて詳細に分析します。"


def test_output_does_not_depend_on_the_wall_clock(blog: Path, now: datetime) -> None:
    _build(blog, now)
    a = (blog.parent / "out/feeds/rss.xml").read_bytes()
    os.remove(blog.parent / "out/feeds/rss.xml")
    _build(blog, now + timedelta(days=30))
    assert (blog.parent / "out/feeds/rss.xml").read_bytes() == a


def test_an_unwritable_output_is_a_clear_error(blog: Path, now: datetime) -> None:
    import pickle

    from publisher.errors import OutputError

    out = blog.parent / "out"
    out.mkdir()
    (out / "feeds").write_text("a file where the feeds folder should be", encoding="utf-8")
    with pytest.raises(OutputError) as info:
        _build(blog, now)
    assert str(info.value).startswith(str(out / "feeds"))
    again = pickle.loads(pickle.dumps(info.value))  # crosses from worker processes intact
    assert (again.path, again.reason) == (info.value.path, info.value.reason)


def test_strict_refuses_warnings_even_when_nothing_changed(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    write_post("2025-09-01-a.md", 'title: "A\x07"')
    first = _build(site, now)
    assert first.exit_code == 0 and len(first.warnings) == 1 and first.written
    cached = _build(site, now)
    assert cached.parsed == 0 and cached.warnings == first.warnings
    strict = _build(site, now, strict=True)
    assert strict.aborted and strict.exit_code == 2


def test_a_config_with_a_byte_order_mark_is_warned_about(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    """Jekyll 4.3.1 reads only the first setting of a _config.yml that starts with a BOM."""
    write_post("2025-09-01-a.md", "title: A")
    config = site / "_config.yml"
    config.write_bytes(b"\xef\xbb\xbf" + config.read_bytes())
    for _ in range(2):  # the cold build and the unchanged one alike
        report = build_feeds(BuildRequest(site_dir=site, output_dir=site.parent / "out", now=now))
        assert report.exit_code == 0
        assert [(w.path, w.line) for w in report.warnings] == [("_config.yml", 1)]
        assert "byte-order mark" in report.warnings[0].reason
