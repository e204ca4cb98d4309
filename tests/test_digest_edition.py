"""Which posts an edition carries: the (after, until] window, audiences, reading time."""

from __future__ import annotations

from datetime import datetime

import pytest
from digest_support import make_post

from publisher.digest.edition import posts_for_audience, reading_minutes, select_posts

UNTIL = datetime.fromisoformat("2025-11-20T09:00:00+09:00")
LAST = datetime.fromisoformat("2025-11-13T09:00:00+09:00")


@pytest.mark.parametrize(
    ("dates", "after", "first_days", "expected"),
    [
        # exclusive after: a post exactly on the previous cutoff went out last time
        (["2025-11-13T09:00:00+09:00"], LAST, 7, []),
        (["2025-11-13T09:00:01+09:00"], LAST, 7, [0]),
        # the same instant written in another offset is still the cutoff
        (["2025-11-13T00:00:00+00:00"], LAST, 7, []),
        # inclusive until: a post exactly on the cutoff is in this edition
        (["2025-11-20T09:00:00+09:00"], LAST, 7, [0]),
        (["2025-11-20T00:00:00+00:00"], LAST, 7, [0]),
        # future posts wait for a later edition
        (["2025-11-20T09:00:01+09:00"], LAST, 7, []),
        (["2027-01-15T09:00:00+09:00"], LAST, 7, []),
        # older than the previous cutoff: never again, however few days first_days says
        (["2025-11-01T09:00:00+09:00"], LAST, 30, []),
        # first edition: the first_days days before until, start exclusive
        (["2025-11-13T09:00:00+09:00"], None, 7, []),
        (["2025-11-13T09:00:01+09:00"], None, 7, [0]),
        (["2025-10-21T09:00:01+09:00"], None, 30, [0]),
        (["2025-10-21T09:00:00+09:00"], None, 30, []),
        # a missed week: the window simply covers both
        (
            ["2025-11-01T00:00:00+00:00", "2025-11-10T00:00:00+00:00"],
            datetime.fromisoformat("2025-10-30T00:00:00+00:00"),
            7,
            [1, 0],
        ),
    ],
)
def test_select_posts_window(
    dates: list[str], after: datetime | None, first_days: int, expected: list[int]
) -> None:
    posts = [make_post(when, slug=f"p{i}") for i, when in enumerate(dates)]
    chosen = select_posts(posts, after, UNTIL, first_days)
    assert [post.slug for post in chosen] == [f"p{i}" for i in expected]


def test_select_posts_newest_first_ties_by_path() -> None:
    posts = [
        make_post("2025-11-14T10:00:00+09:00", slug="a"),
        make_post("2025-11-18T10:00:00+09:00", slug="b"),
        make_post("2025-11-14T10:00:00+09:00", slug="c"),
        make_post("2025-11-16T10:00:00+09:00", slug="d"),
    ]
    assert [p.slug for p in select_posts(posts, LAST, UNTIL, 7)] == ["b", "d", "c", "a"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ((), ["ai", "chips", "both", "none"]),
        (("AI",), ["ai", "both"]),
        (("AI", "半導体"), ["ai", "chips", "both"]),
        (("半導体",), ["chips", "both"]),
        (("Unknown",), []),
    ],
)
def test_posts_for_audience(choice: tuple[str, ...], expected: list[str]) -> None:
    posts = [
        make_post("2025-11-19T10:00:00+09:00", slug="ai", categories=("AI",)),
        make_post("2025-11-18T10:00:00+09:00", slug="chips", categories=("半導体",)),
        make_post("2025-11-17T10:00:00+09:00", slug="both", categories=("半導体", "AI")),
        make_post("2025-11-16T10:00:00+09:00", slug="none"),
    ]
    assert [p.slug for p in posts_for_audience(posts, choice)] == expected


@pytest.mark.parametrize(
    ("reading_time", "stamp", "lang", "expected"),
    [
        (8, "999999-1", "ja", 8),  # the front matter wins
        (None, "4500-1700000000000000000", "ja", 3),  # 1500 chars / 500 a minute
        (None, "4500-1700000000000000000", "ja-JP", 3),
        (None, "15000-1", "ja", 10),
        (None, "2760-1", "en", 2),  # 460 words / 230 a minute
        (None, "13800-1", "en", 10),
        (None, "4500-1", "en", 3),  # 750 words: 3.26 minutes
        (None, "100-1", "ja", 1),  # never less than a minute
        (None, "100-1", "en", 1),
        (None, "", "ja", 1),  # no stamp: nothing to estimate from
        (0, "15000-1", "ja", 10),  # reading_time: 0 means unknown
    ],
)
def test_reading_minutes(reading_time: int | None, stamp: str, lang: str, expected: int) -> None:
    post = make_post("2025-11-19T10:00:00+09:00", reading_time=reading_time, stamp=stamp)
    assert reading_minutes(post, lang) == expected
