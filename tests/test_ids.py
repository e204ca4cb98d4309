from pathlib import Path

import pytest

from publisher.content.ids import iri_to_uri, slugify, tag_uri
from publisher.feeds.slugs import feed_slug

# Jekyll's Utils.slugify gave each expected value (tests/test_jekyll_urls.py asks it again).
SLUGIFY = [
    ("Hello, World!", "default", False, "hello-world"),
    ("Hello, World!", "pretty", True, "Hello,-World!"),
    ("韓国AI、世界3位", "default", False, "韓国ai-世界3位"),
    ("snake_case name", "default", False, "snake-case-name"),
    ("  --trim--  ", "default", False, "trim"),
    ("v1.2 release", "pretty", False, "v1.2-release"),
    ("The _config.yml file", "default", False, "the-config-yml-file"),
    ("The _config.yml file", "pretty", True, "The-_config.yml-file"),
    ("000_f2add3d526d6bbe3", "pretty", True, "000_f2add3d526d6bbe3"),
    ("000_f2add3d526d6bbe3", "default", False, "000-f2add3d526d6bbe3"),
    ("Upper_Case.Name", "pretty", True, "Upper_Case.Name"),
    ("Upper_Case.Name", "default", False, "upper-case-name"),
    ("with space+plus", "pretty", True, "with-space+plus"),
    ("~a'b(c)d;e=f@g$h&i!j,k", "pretty", True, "~a'b(c)d;e=f@g$h&i!j,k"),
    ("odd #1 ?q %41 [x] {y} ü é〜", "pretty", True, "odd-1-q-41-x-y-ü-é"),
    # Letters, marks and decimal digits of any script; not ① Ⅳ ² (numbers, not digits).
    ("①Ⅳ²x\u0301y_ー々３", "pretty", True, "x\u0301y_ー々３"),
    ("①Ⅳ²x\u0301y_ー々３", "default", False, "x\u0301y-ー々３"),
    ("Ünïcödé STRASSE", "default", False, "ünïcödé-strasse"),
    ("line\nbreak\ttab", "pretty", True, "line-break-tab"),
    ("!!!", "default", False, ""),
    ("-a--b-", "pretty", True, "a-b"),
]


@pytest.mark.parametrize(("text", "mode", "cased", "expected"), SLUGIFY)
def test_slugify(text: str, mode: str, cased: bool, expected: str) -> None:
    assert slugify(text, mode=mode, cased=cased) == expected


@pytest.mark.parametrize(
    ("name", "mapping", "expected"),
    [
        ("投資分析", {"投資分析": "investment"}, "investment"),
        ("投資分析", {}, "投資分析"),
        ("Machine Learning", {}, "machine-learning"),
        ("AI/ML", {}, "ai-ml"),
        ("../../etc/passwd", {}, "etc-passwd"),
        ("..", {}, "x-"),  # prefix of a hash: never "." or ".."
        (".hidden", {}, "hidden"),
        ("C++", {}, "c"),
        ("a\\b", {}, "a-b"),
    ],
)
def test_feed_slug(name: str, mapping: dict[str, str], expected: str) -> None:
    slug = feed_slug(name, mapping)
    assert slug.startswith(expected)
    assert "/" not in slug and "\\" not in slug and not slug.startswith(".")
    assert (Path("/out") / f"{slug}.xml").resolve().parent == Path("/out")


def test_feed_slug_is_bounded_and_distinct_for_long_names() -> None:
    a, b = feed_slug("長" * 300 + "a", {}), feed_slug("長" * 300 + "b", {})
    assert len(a) <= 120 and a != b


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("blog.example.com", "2025-09-21", "hello"), "tag:blog.example.com,2025-09-21:hello"),
        (
            ("blog.example.com", "2025-09-21", "半導体"),
            "tag:blog.example.com,2025-09-21:%E5%8D%8A%E5%B0%8E%E4%BD%93",
        ),
    ],
)
def test_tag_uri(args: tuple[str, str, str], expected: str) -> None:
    assert tag_uri(*args) == expected


@pytest.mark.parametrize(
    ("iri", "expected"),
    [
        ("https://x.org/a/b.html", "https://x.org/a/b.html"),
        ("https://x.org/投資/", "https://x.org/%E6%8A%95%E8%B3%87/"),
        ("https://x.org/%E6%8A%95/", "https://x.org/%E6%8A%95/"),  # never encoded twice
        ("https://x.org/a b?q=1&r=2#f", "https://x.org/a%20b?q=1&r=2#f"),
    ],
)
def test_iri_to_uri(iri: str, expected: str) -> None:
    assert iri_to_uri(iri) == expected
