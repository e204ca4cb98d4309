from datetime import UTC, datetime

import pytest

from publisher.content.permalink import post_path

DATE = datetime(2025, 9, 21, 2, 15, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("pattern", "categories", "slug", "expected"),
    [
        ("date", ("Tech",), "hello-world", "/tech/2025/09/21/hello-world.html"),
        ("date", (), "hello-world", "/2025/09/21/hello-world.html"),
        ("pretty", ("a", "b"), "hello", "/a/b/2025/09/21/hello/"),
        ("ordinal", (), "hello", "/2025/264/hello.html"),
        ("none", ("x",), "hello", "/x/hello.html"),
        ("weekdate", (), "hello", "/2025/W38/Sun/hello.html"),
        ("/:year/:month/:title/", (), "hello", "/2025/09/hello/"),
        ("/:year/:i_month/:i_day/:slug.html", (), "Hello_World", "/2025/9/21/hello-world.html"),
        (
            "/:categories/:title:output_ext",
            ("投資分析",),
            "post",
            "/%E6%8A%95%E8%B3%87%E5%88%86%E6%9E%90/post.html",
        ),
        ("/blog/:short_year/:hour:minute/:title", (), "x", "/blog/25/0215/x"),
        (
            "date",
            ("Tech", "tech"),
            "x",
            "/tech/2025/09/21/x.html",
        ),  # Jekyll de-duplicates, lower-cased
        ("/custom/path/special-post/", (), "ignored", "/custom/path/special-post/"),
        (
            "date",
            (),
            "半導体の行方",
            "/2025/09/21/%E5%8D%8A%E5%B0%8E%E4%BD%93%E3%81%AE%E8%A1%8C%E6%96%B9.html",
        ),
    ],
)
def test_post_path(pattern: str, categories: tuple[str, ...], slug: str, expected: str) -> None:
    assert post_path(pattern, DATE, categories, slug) == expected
