"""The plain nouns every stage shares: posts and the problems found reading them.

They are frozen ``msgspec.Struct`` types rather than dataclasses: they behave
the same (typed, immutable, keyword-only), and the build cache can decode
10,000 of them from JSON in a few milliseconds, which is what keeps an
unchanged rebuild near-instant. No I/O happens here.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = ["Post", "Problem"]


class Post(msgspec.Struct, frozen=True, kw_only=True):
    """One published (or publishable) post, as read from its file.

    ``date`` keeps the offset the post was written with (a naive date takes the
    site's timezone); ``updated`` is ``last_modified_at`` or ``date``.
    ``excerpt`` is plain text. ``source`` is the file's absolute path and
    ``body_offset`` the character offset where the body starts in its decoded,
    newline-normalised text, so the body can be rendered later without parsing
    the front matter again. ``stamp`` is ``"size-mtime_ns"`` of the file.
    """

    source: str
    path: str
    title: str
    date: datetime
    updated: datetime
    slug: str
    url: str
    id: str
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    author: str | None = None
    excerpt: str = ""
    reading_time: int | None = None
    body_offset: int = 0
    stamp: str = ""


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """Why one post was not published: a path (relative to the site), a line, a reason.

    >>> str(Problem(path="_posts/2025-01-01-a.md", line=3, reason="bad date"))
    '_posts/2025-01-01-a.md:3: bad date'
    """

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"
