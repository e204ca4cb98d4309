"""read_posts over real files: one fixture per quirk, the cache, the parallel path."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from publisher.config import load_settings
from publisher.content import read_posts
from publisher.models import Post

Add = Callable[..., Path]


def _read(site: Path, now: datetime, cache: Path | None = None):  # type: ignore[no-untyped-def]
    return read_posts(site, load_settings(site, environ={}), now, cache_file=cache)


def _only_post(site: Path, now: datetime) -> Post:
    result = _read(site, now)
    assert result.problems == ()
    assert len(result.posts) == 1
    return result.posts[0]


@pytest.mark.parametrize(
    ("fixture", "date"),
    [
        ("post_with_jekyll_string_date.md", "2025-09-21T02:15:11+00:00"),
        ("post_with_iso_date.md", "2025-09-21T11:15:11+09:00"),
        ("post_with_yaml_date.md", "2025-09-21T00:00:00+09:00"),
        ("post_with_naive_date.md", "2025-09-21T20:15:11+09:00"),  # Jekyll: UTC (Psych)
        ("post_without_date.md", "2025-09-21T00:00:00+09:00"),
        ("post_with_utf8_bom.md", "2025-09-21T02:15:11+00:00"),
        ("post_with_crlf_line_endings.md", "2025-09-21T02:15:11+00:00"),
    ],
)
def test_dates_from_each_kind_of_post(
    site: Path, add_fixture: Add, now: datetime, fixture: str, date: str
) -> None:
    add_fixture(fixture)
    assert _only_post(site, now).date.isoformat() == date


@pytest.mark.parametrize(
    ("fixture", "line", "reason"),
    [
        ("post_with_broken_yaml.md", 3, "invalid YAML in front matter"),
        ("post_with_unclosed_front_matter.md", 1, "never closed"),
        ("post_without_title.md", 1, "no title"),
        ("post_with_empty_front_matter.md", 1, "no title"),
        ("post_with_unparseable_date.md", None, "date: cannot read 'next tuesday' as a date"),
        ("post_with_shift_jis_bytes.md", None, "not UTF-8"),
        ("post_with_non_mapping_front_matter.md", 2, "must be a mapping"),
    ],
)
def test_bad_posts_are_reported_and_the_rest_published(
    site: Path, add_fixture: Add, now: datetime, fixture: str, line: int | None, reason: str
) -> None:
    bad = add_fixture(fixture)
    add_fixture("post_with_jekyll_string_date.md", day="2025-09-22")
    result = _read(site, now)
    assert [p.title for p in result.posts] != []
    assert len(result.posts) == 1
    (problem,) = result.problems
    assert problem.path == f"_posts/{bad.name}"
    assert reason in problem.reason
    assert problem.line is not None
    if line is not None:
        assert problem.line == line
    if fixture == "post_with_unparseable_date.md":
        text = bad.read_text(encoding="utf-8").splitlines()
        assert text[problem.line - 1].startswith("date:")


def test_shift_jis_line_is_where_the_bad_bytes_are(
    site: Path, add_fixture: Add, now: datetime
) -> None:
    bad = add_fixture("post_with_shift_jis_bytes.md")
    (problem,) = _read(site, now).problems
    data = bad.read_bytes().split(b"\n")[problem.line - 1]
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_xml_illegal_characters_are_stripped_not_fatal(
    site: Path, add_fixture: Add, now: datetime
) -> None:
    add_fixture("post_with_xml_illegal_chars.md")
    post = _only_post(site, now)
    for char in "\x01\x0b\x1f":
        assert char not in post.title and char not in post.excerpt


@pytest.mark.parametrize(
    ("fixture", "categories", "tags"),
    [
        ("post_with_categories_string.md", ("技術解説", "入門"), None),
        ("post_with_single_category.md", ("投資分析",), None),
        ("post_with_tags_string.md", None, ("ai", "chips")),
    ],
)
def test_categories_and_tags_forms(
    site: Path,
    add_fixture: Add,
    now: datetime,
    fixture: str,
    categories: tuple[str, ...] | None,
    tags: tuple[str, ...] | None,
) -> None:
    add_fixture(fixture)
    post = _only_post(site, now)
    if categories is not None:
        assert post.categories == categories
    if tags is not None:
        assert post.tags == tags


def test_unpublished_is_skipped_silently(site: Path, add_fixture: Add, now: datetime) -> None:
    add_fixture("post_unpublished.md")
    result = _read(site, now)
    assert (result.posts, result.problems, result.drafts) == ((), (), 1)


def test_future_post_waits_for_its_time(site: Path, add_fixture: Add, now: datetime) -> None:
    add_fixture("post_in_the_future.md", day="2099-01-01")
    early = _read(site, now)
    assert early.posts == () and len(early.scheduled) == 1
    due = early.scheduled[0].date
    assert _read(site, due - timedelta(seconds=1)).posts == ()
    assert len(_read(site, due).posts) == 1


def test_files_without_the_date_prefix_are_ignored(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    write_post("about.md", "title: About")
    write_post("2025-09-21-ok.md", "title: OK")
    write_post("drafts/2025-09-21-nested.md", "title: Nested")  # sub-folders are read, like Jekyll
    write_post(".2025-09-21-hidden.md", "title: Hidden")
    result = _read(site, now)
    assert sorted(p.title for p in result.posts) == ["Nested", "OK"]
    assert result.files == 2


def test_excerpt_given_is_kept_verbatim(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    write_post(
        "2025-09-21-a.md",
        'title: A\nexcerpt: "韓国AI、世界3位に浮上。詳しく分析します。"',
        "長い本文。" * 100,
    )
    assert _only_post(site, now).excerpt == "韓国AI、世界3位に浮上。詳しく分析します。"


def test_derived_excerpt_skips_the_repeated_title(
    site: Path, add_fixture: Add, now: datetime
) -> None:
    add_fixture("post_without_excerpt_title_repeated.md")
    post = _only_post(site, now)
    assert post.excerpt
    assert not post.excerpt.startswith(post.title)
    assert len(post.excerpt) <= 120


def test_derived_excerpt_from_a_long_first_paragraph(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    # The paragraph lies beyond the first 4 KB read: the reader must read on.
    long_title = "タ" * 10
    body = f"{long_title}\n\n" + "前置きの文です。" * 2000 + "\n\n次。"
    write_post(
        "2025-09-21-long.md",
        f"title: {long_title}\n" + "\n".join(f"k{i}: v" for i in range(300)),
        body,
    )
    post = _only_post(site, now)
    assert post.excerpt.startswith("前置きの文です。") and post.excerpt.endswith("。")


def test_author_from_post_else_site(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    write_post("2025-09-21-a.md", "title: A\nauthor: 山田")
    write_post("2025-09-22-b.md", "title: B")
    posts = {p.title: p for p in _read(site, now).posts}
    assert posts["A"].author == "山田"
    assert posts["B"].author == "テスト編集部"


def test_last_modified_at_gives_updated(site: Path, add_fixture: Add, now: datetime) -> None:
    add_fixture("post_with_last_modified.md")
    post = _only_post(site, now)
    assert post.updated.isoformat() == "2025-10-01T12:00:00+00:00"
    assert post.updated > post.date


def test_permalinks_and_ids(site: Path, add_fixture: Add, now: datetime) -> None:
    add_fixture("post_with_permalink.md")
    add_fixture("post_with_explicit_id.md", day="2025-09-22")
    add_fixture("post_with_single_category.md", day="2025-09-23", slug="半導体の行方")
    posts = {p.slug: p for p in _read(site, now).posts}
    assert posts["post_with_permalink"].url == "https://blog.example.com/custom/path/special-post/"
    assert posts["post_with_explicit_id"].id == "urn:uuid:5f1c3a52-8a0b-4a8e-9a53-0d1e2f3a4b5c"
    jp = posts["半導体の行方"]
    assert jp.url.startswith(
        "https://blog.example.com/%E6%8A%95%E8%B3%87%E5%88%86%E6%9E%90/2025/09/"
    )
    assert jp.url.endswith("/%E5%8D%8A%E5%B0%8E%E4%BD%93%E3%81%AE%E8%A1%8C%E6%96%B9.html")
    assert jp.id.startswith("tag:blog.example.com,2025-09-")


def test_permalink_date_is_in_the_site_timezone(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    # 16:41 UTC on the 20th is already the 21st in Tokyo: Jekyll's URL says 21.
    write_post("2025-10-20-late.md", "title: Late\ndate: 2025-10-20 16:41:25 +0000")
    post = _only_post(site, now)
    assert post.url == "https://blog.example.com/2025/10/21/late.html"
    assert post.date.isoformat() == "2025-10-20T16:41:25+00:00"


def test_id_survives_a_permalink_change(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    write_post("2025-09-21-a.md", "title: A\ndate: 2025-09-21 10:00:00 +0900")
    before = _only_post(site, now)
    (site / "_config.yml").write_text(
        (site / "_config.yml").read_text(encoding="utf-8") + "permalink: pretty\n", encoding="utf-8"
    )
    after = _only_post(site, now)
    assert before.url != after.url
    assert before.id == after.id


def test_duplicate_ids_are_told_apart_deterministically(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    write_post("2025-09-21-same.md", "title: One\ndate: 2025-09-21 10:00 +0900")
    write_post("sub/2025-09-21-same.md", "title: Two\ndate: 2025-09-21 11:00 +0900")
    write_post("2025-09-22-x.md", "title: X\nid: urn:x")
    write_post("2025-09-23-y.md", "title: Y\nid: urn:x")
    first = _read(site, now)
    ids = [p.id for p in first.posts]
    assert len(set(ids)) == len(ids) == 4
    assert ids == [p.id for p in _read(site, now).posts]
    assert [p.reason for p in first.problems] == [
        "id 'urn:x' is also used by _posts/2025-09-22-x.md; published as 'urn:x-2'"
    ]


def test_cache_makes_a_second_read_parse_nothing(
    site: Path, add_fixture: Add, now: datetime, tmp_path: Path
) -> None:
    add_fixture("post_with_jekyll_string_date.md")
    bad = add_fixture("post_with_broken_yaml.md", day="2025-09-22")
    cache = tmp_path / "cache.json"
    first = _read(site, now, cache)
    second = _read(site, now, cache)
    assert (first.parsed, second.parsed) == (2, 0)
    assert first.posts == second.posts and first.problems == second.problems
    bad.write_text("---\ntitle: Fixed\n---\nok\n", encoding="utf-8")
    os.utime(bad, ns=(1, 1))
    third = _read(site, now, cache)
    assert third.parsed == 1 and third.problems == () and len(third.posts) == 2


def test_corrupt_cache_is_ignored(
    site: Path, add_fixture: Add, now: datetime, tmp_path: Path
) -> None:
    add_fixture("post_with_jekyll_string_date.md")
    cache = tmp_path / "cache.json"
    cache.write_bytes(b"{not json")
    assert len(_read(site, now, cache).posts) == 1


def test_many_posts_are_parsed_in_parallel_with_the_same_result(
    site: Path, write_post: Callable[..., Path], now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(260):
        write_post(
            f"2025-09-{1 + i % 28:02d}-p{i:03d}.md", f"title: P{i}\ntags: [t{i % 7}]", "本文。\n"
        )
    write_post("2025-09-21-bad.md", "title: [oops")
    parallel = _read(site, now)
    monkeypatch.setenv("PUBLISHER_FEEDS__WORKERS", "1")
    serial = read_posts(site, load_settings(site), now)
    assert parallel.posts == serial.posts and parallel.problems == serial.problems
    assert len(parallel.posts) == 260 and len(parallel.problems) == 1


def test_an_impossible_date_inside_a_list_is_reported_on_its_own_line(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    bad = write_post("2025-09-02-x.md", "title: X\nhistory:\n  - 2025-01-01\n  - 2025-02-30")
    write_post("2025-09-03-y.md", "title: Y")
    result = _read(site, now)
    assert [p.title for p in result.posts] == ["Y"]
    (problem,) = result.problems
    assert problem.line == 5
    assert bad.read_text(encoding="utf-8").splitlines()[4] == "  - 2025-02-30"


def test_a_post_with_a_warning_is_cached_with_it(
    site: Path, write_post: Callable[..., Path], now: datetime, tmp_path: Path
) -> None:
    write_post("2025-09-02-x.md", 'title: "Ring\x07"')
    cache = tmp_path / "state" / "posts.json"
    first, second = _read(site, now, cache), _read(site, now, cache)
    assert (first.parsed, second.parsed) == (1, 0)
    assert [p.title for p in second.posts] == ["Ring"]
    assert second.warnings == first.warnings and len(first.warnings) == 1
    assert second.problems == ()
