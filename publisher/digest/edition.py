"""Which posts an edition carries, and for whom: pure functions, no I/O.

An edition covers the posts dated in ``(after, until]``: after the previous
edition's cutoff (exclusive, so a post on the old cutoff is never sent twice)
and up to its own (inclusive). The first edition has no previous cutoff and
looks back ``first_days`` days. Posts dated after ``until`` wait for a later
edition.

>>> from datetime import datetime, UTC
>>> until = datetime(2025, 11, 20, tzinfo=UTC)
>>> select_posts([], None, until, 7)
[]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from publisher.models import Post
from publisher.words import language

__all__ = ["posts_for_audience", "reading_minutes", "select_posts"]

# Reading speeds for the estimate when a post has no ``reading_time``.
# UTF-8 Japanese is ~3 bytes a character, read at ~500 characters a minute;
# other languages ~6 bytes a word (with its space), read at ~230 words a minute.
_JA_BYTES_PER_CHAR = 3
_JA_CHARS_PER_MINUTE = 500
_BYTES_PER_WORD = 6
_WORDS_PER_MINUTE = 230


def select_posts(
    posts: Sequence[Post], after: datetime | None, until: datetime, first_days: int
) -> list[Post]:
    """The posts dated in ``(after, until]``, newest first (ties: by path, descending).

    ``after`` is None for the first edition: the window is then the
    ``first_days`` days before ``until``.

    >>> select_posts(posts, last.cutoff_to, now, 7)  # doctest: +SKIP
    """
    start = after if after is not None else until - timedelta(days=first_days)
    chosen = [post for post in posts if start < post.date <= until]
    chosen.sort(key=lambda post: (post.date, post.path), reverse=True)
    return chosen


def posts_for_audience(posts: Sequence[Post], categories: tuple[str, ...]) -> list[Post]:
    """The posts an audience group reads: all of them, or those in any chosen category.

    Order is kept. An empty choice means "every category".

    >>> posts_for_audience(posts, ("投資分析",))  # doctest: +SKIP
    """
    if not categories:
        return list(posts)
    wanted = set(categories)
    return [post for post in posts if wanted.intersection(post.categories)]


def reading_minutes(post: Post, lang: str) -> int:
    """Minutes to read ``post``: its ``reading_time``, else an estimate from its file size.

    The estimate uses the size in ``post.stamp`` (``"size-mtime_ns"``), front
    matter included: close enough for "about N minutes". Never less than 1.

    >>> reading_minutes(post, "ja")  # doctest: +SKIP
    4
    """
    if post.reading_time is not None and post.reading_time > 0:
        return post.reading_time
    size = _file_size(post.stamp)
    if language(lang) == "ja":
        minutes = size / _JA_BYTES_PER_CHAR / _JA_CHARS_PER_MINUTE
    else:
        minutes = size / _BYTES_PER_WORD / _WORDS_PER_MINUTE
    return max(1, math.floor(minutes + 0.5))


def _file_size(stamp: str) -> int:
    head, _, _ = stamp.partition("-")
    return int(head) if head.isdigit() else 0
