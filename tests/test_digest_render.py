"""Rendering the digest: labels per language, escaping, CSS inlining, limits, golden files."""

from __future__ import annotations

import html
import re
import shutil
from datetime import datetime
from pathlib import Path

import lxml.html
import pytest
from digest_support import (
    ADDRESS,
    GOLDEN,
    example_digest,
    make_post,
    style_blocks,
    with_digest,
    with_site,
)

from publisher.config import Settings
from publisher.content import read_posts
from publisher.digest.render import (
    MAX_HTML_BYTES,
    PREFERENCES_URL,
    TEMPLATES,
    UNSUBSCRIBE_URL,
    render_digest,
)
from publisher.models import Post

CUTOFF = datetime.fromisoformat("2025-11-20T00:00:00+00:00")


@pytest.fixture
def posts() -> list[Post]:
    return [
        make_post(
            "2025-09-20T20:00:00+00:00",  # already the 21st in Tokyo
            slug="korea",
            title="韓国AI、世界3位浮上の真意とは？",
            categories=("投資分析", "AI"),
            excerpt="韓国AI、世界3位に浮上。LG/Upstage貢献について詳細に分析します。",
            reading_time=8,
            url="https://blog.example.com/%E6%8A%95%E8%B3%87/korea.html?a=1&b=2",
        ),
        make_post("2025-09-19T01:00:00+00:00", slug="older", stamp="9000-1"),
    ]


def test_japanese_digest_shows_each_post(settings: Settings, posts: list[Post]) -> None:
    content = render_digest(posts, number=3, cutoff=CUTOFF, settings=settings)
    assert (content.posts, content.omitted) == (2, 0)
    doc = lxml.html.fromstring(content.html)
    assert doc.get("lang") == "ja"
    titles = doc.find_class("post-title")
    assert [t.text_content() for t in titles] == [
        "韓国AI、世界3位浮上の真意とは？",
        "Title of older",
    ]
    assert titles[0].find("a").get("href") == posts[0].url
    card = titles[0].getparent()
    assert "2025年9月21日" in card.find_class("meta")[0].text_content()
    assert [c.text_content() for c in card.find_class("category")] == ["投資分析", "AI"]
    assert card.find_class("excerpt")[0].text_content() == posts[0].excerpt
    assert card.find_class("button")[0].text_content() == "続きを読む"
    assert card.find_class("button")[0].get("href") == posts[0].url
    assert card.find_class("minutes")[0].text_content() == "約8分"
    # no reading_time: estimated from the 9000-byte file
    assert doc.find_class("minutes")[1].text_content() == "約6分"
    assert "第3号・2025年11月20日・新着記事 2件" in content.html


def test_japanese_text_part_carries_the_same_data(settings: Settings, posts: list[Post]) -> None:
    content = render_digest(posts, number=3, cutoff=CUTOFF, settings=settings)
    text = content.text
    assert "<a " not in text and "<td" not in text
    assert "韓国AI、世界3位浮上の真意とは？\n2025年9月21日・投資分析・AI・約8分\n" in text
    assert posts[0].excerpt in text
    assert f"続きを読む: {posts[0].url}\n" in text  # & stays & in text
    assert f"配信停止: {UNSUBSCRIBE_URL}\n" in text
    assert f"配信設定の変更: {PREFERENCES_URL}\n" in text
    assert "このメールは、http://127.0.0.1:8000 で「テストブログ」のニュースレターに" in text


def test_english_labels_and_dates(settings: Settings, posts: list[Post]) -> None:
    english = with_site(settings, lang="en-US", title="Test Blog")
    content = render_digest(posts, number=3, cutoff=CUTOFF, settings=english)
    doc = lxml.html.fromstring(content.html)
    assert doc.get("lang") == "en-US"
    meta = doc.find_class("meta")[0].text_content()
    assert meta.startswith("September 21, 2025")
    assert doc.find_class("minutes")[0].text_content() == "8 min read"
    assert doc.find_class("button")[0].text_content() == "Read more"
    assert "Issue 3 · November 20, 2025 · 2 new posts" in content.text
    assert (
        "You receive this because you subscribed to Test Blog at http://127.0.0.1:8000."
        in content.text
    )
    assert "Unsubscribe" in content.html and "Manage preferences" in content.html


def test_footer_links_are_placeholders_that_premailer_keeps(
    settings: Settings, posts: list[Post]
) -> None:
    settings = with_digest(settings, postal_address=ADDRESS)
    content = render_digest(posts, number=1, cutoff=CUTOFF, settings=settings)
    assert f'href="{UNSUBSCRIBE_URL}"' in content.html
    assert f'href="{PREFERENCES_URL}"' in content.html
    footer = lxml.html.fromstring(content.html).find_class("footer")[0]
    links = {a.text_content(): a.get("href") for a in footer.iter("a")}
    assert links == {"配信停止": UNSUBSCRIBE_URL, "配信設定の変更": PREFERENCES_URL}
    assert "〒100-0001 東京都千代田区千代田1-1<br>テスト編集部" in content.html
    assert "〒100-0001 東京都千代田区千代田1-1\nテスト編集部\n" in content.text


def test_css_is_inlined_and_the_style_block_survives(settings: Settings, posts: list[Post]) -> None:
    content = render_digest(posts, number=1, cutoff=CUTOFF, settings=settings)
    styles = style_blocks(content.html)
    assert "'Hiragino Sans', 'Noto Sans JP'" in styles
    assert "@media (max-width: 600px)" in styles
    assert "@media (prefers-color-scheme: dark)" in styles
    assert "&#39;" not in content.html and "&#x27;" not in content.html
    doc = lxml.html.fromstring(content.html)
    card = doc.find_class("card")[0]
    assert "background-color:#fff" in card.get("style").replace(" ", "")
    assert "Hiragino Sans" in card.get("style")


def test_html_escapes_and_text_does_not(settings: Settings) -> None:
    post = make_post(
        "2025-11-19T10:00:00+09:00", title='<b>Q&A</b> "quotes"', excerpt="1 < 2 & 3 > 2"
    )
    content = render_digest([post], number=1, cutoff=CUTOFF, settings=settings)
    assert "&lt;b&gt;Q&amp;A&lt;/b&gt;" in content.html and "<b>Q" not in content.html
    assert "1 &lt; 2 &amp; 3 &gt; 2" in content.html
    assert '<b>Q&A</b> "quotes"' in content.text and "1 < 2 & 3 > 2" in content.text


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{site} — {date}", "テストブログ — 2025年11月20日"),
        ("{site} 第{number}号 ({count}件)", "テストブログ 第12号 (2件)"),
        ("{site}\n  weekly\r\n{date}", "テストブログ weekly 2025年11月20日"),
        ("{unknown} {site}", "{unknown} テストブログ"),
    ],
)
def test_subject(settings: Settings, posts: list[Post], template: str, expected: str) -> None:
    settings = with_digest(settings, subject=template)
    # 23:30 UTC on the 19th is the 20th in Tokyo
    cutoff = datetime.fromisoformat("2025-11-19T23:30:00+00:00")
    assert render_digest(posts, number=12, cutoff=cutoff, settings=settings).subject == expected


def test_subject_date_in_english(settings: Settings, posts: list[Post]) -> None:
    english = with_digest(with_site(settings, lang="en"), subject="{site}: {date}")
    content = render_digest(posts, number=1, cutoff=CUTOFF, settings=english)
    assert content.subject == "テストブログ: November 20, 2025"


def test_max_posts_keeps_the_newest_and_links_to_the_rest(settings: Settings) -> None:
    posts = [
        make_post(f"2025-11-{day:02d}T10:00:00+09:00", slug=f"d{day}") for day in range(10, 15)
    ]
    content = render_digest(
        posts, number=1, cutoff=CUTOFF, settings=with_digest(settings, max_posts=2)
    )
    assert (content.posts, content.omitted) == (2, 3)
    doc = lxml.html.fromstring(content.html)
    assert [t.text_content() for t in doc.find_class("post-title")] == [
        "Title of d14",
        "Title of d13",
    ]
    more = doc.find_class("more-link")[0]
    assert more.get("href") == "https://blog.example.com/"
    assert "他3件の記事" in more.text_content()
    assert "他3件の記事: https://blog.example.com/\n" in content.text
    assert "新着記事 5件" in content.text  # the count says how many are new, shown or not


def test_no_more_link_when_everything_fits(settings: Settings, posts: list[Post]) -> None:
    content = render_digest(posts, number=1, cutoff=CUTOFF, settings=settings)
    assert not lxml.html.fromstring(content.html).find_class("more-link")
    assert "他" not in content.text


def test_oversized_html_is_cut_below_gmails_clipping_limit(settings: Settings) -> None:
    long_excerpt = "長い抜粋の文章です。" * 400  # ~12 KB of UTF-8 a post
    posts = [
        make_post(f"2025-11-{day:02d}T10:00:00+09:00", slug=f"d{day}", excerpt=long_excerpt)
        for day in range(1, 16)
    ]
    content = render_digest(posts, number=1, cutoff=CUTOFF, settings=settings)
    assert len(content.html.encode()) <= MAX_HTML_BYTES
    assert 1 <= content.posts < 15 and content.posts + content.omitted == 15
    assert f"他{content.omitted}件の記事" in content.html
    titles = lxml.html.fromstring(content.html).find_class("post-title")
    assert titles[0].text_content() == "Title of d15"  # the newest are the ones kept


def test_templates_folder_overrides_by_file_name(
    settings: Settings, posts: list[Post], tmp_path: Path
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "_post.html.j2").write_text(
        '<tr><td class="custom">{{ post.title }} / {{ t.read_more }}</td></tr>\n', encoding="utf-8"
    )
    settings = with_digest(settings, templates=str(folder))
    content = render_digest(posts, number=1, cutoff=CUTOFF, settings=settings)
    cells = lxml.html.fromstring(content.html).find_class("custom")
    assert cells[0].text_content() == "韓国AI、世界3位浮上の真意とは？ / 続きを読む"
    assert "site-name" in content.html  # base.html.j2 still the built-in one
    assert "韓国AI、世界3位浮上の真意とは？" in content.text  # so is the text part


def test_templates_install_with_the_package() -> None:
    names = {p.name for p in TEMPLATES.iterdir()}
    assert {
        "base.html.j2",
        "edition.html.j2",
        "_post.html.j2",
        "edition.txt.j2",
        "style.css",
    } <= names


def test_empty_edition_still_renders(settings: Settings) -> None:
    content = render_digest([], number=1, cutoff=CUTOFF, settings=settings)
    assert (content.posts, content.omitted) == (0, 0)
    assert UNSUBSCRIBE_URL in content.html and UNSUBSCRIBE_URL in content.text


def test_example_site_digest_matches_golden_files(update_golden: bool) -> None:
    content, _ = example_digest()
    assert content.posts == 4
    if update_golden:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        (GOLDEN / "edition.html").write_text(content.html, encoding="utf-8", newline="")
        (GOLDEN / "edition.txt").write_text(content.text, encoding="utf-8", newline="")
    for name, data in (("edition.html", content.html), ("edition.txt", content.text)):
        golden = (GOLDEN / name).read_bytes().decode("utf-8")
        assert data == golden, f"{name} differs from tests/golden: run pytest --update-golden"


def test_customer_posts_render_with_their_own_excerpts(
    sample_posts: list[Path], site: Path, settings: Settings
) -> None:
    for source in sample_posts:
        text = source.read_text(encoding="utf-8")
        day = re.search(r"^date:\s*\"?(\d{4}-\d{2}-\d{2})", text, re.M)
        assert day is not None, source
        shutil.copyfile(source, site / "_posts" / f"{day[1]}-{source.stem}.md")
    now = datetime.fromisoformat("2025-12-01T00:00:00+09:00")
    result = read_posts(site, settings, now)
    assert len(result.posts) == len(sample_posts) and not result.problems
    content = render_digest(result.posts, number=1, cutoff=now, settings=settings)
    assert content.posts == len(sample_posts)
    for post in result.posts:
        assert post.excerpt
        assert html.escape(post.excerpt, quote=False) in content.html, post.path
        assert post.excerpt in content.text, post.path
        assert html.escape(post.title, quote=False) in content.html


@pytest.mark.parametrize(
    ("title", "excerpt", "categories"),
    [
        ("漢" * 100_000, "", ()),
        ("A" * 100_000, "字" * 100_000, ()),
        ("One post", "抜粋" * 60_000, tuple(f"分類{i}" for i in range(3000))),
    ],
)
def test_one_huge_post_is_cut_to_the_budget_and_keeps_the_footer(
    settings: Settings, title: str, excerpt: str, categories: tuple[str, ...]
) -> None:
    post = make_post(
        "2025-11-10T10:00:00+09:00", title=title, excerpt=excerpt, categories=categories
    )
    content = render_digest([post], number=1, cutoff=CUTOFF, settings=settings)
    assert len(content.html.encode()) <= MAX_HTML_BYTES
    assert (content.posts, content.omitted) == (1, 0)
    doc = lxml.html.fromstring(content.html)
    (shown,) = (t.text_content() for t in doc.find_class("post-title"))
    assert shown == title or (shown.endswith("…") and title.startswith(shown[:-1]))
    assert len(shown) <= 2000
    assert doc.xpath(f'//a[@href="{UNSUBSCRIBE_URL}"]')  # the footer, with its link
    assert UNSUBSCRIBE_URL in content.text
