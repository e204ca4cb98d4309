"""The plain nouns every stage shares: posts and the problems found reading them.

They are frozen ``msgspec.Struct`` types rather than dataclasses: they behave
the same (typed, immutable, keyword-only), and the build cache can decode
10,000 of them from JSON in a few milliseconds, which is what keeps an
unchanged rebuild near-instant. No I/O happens here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

import msgspec

__all__ = [
    "EDITION_STATES",
    "OUTBOX_STATES",
    "REOPENABLE",
    "SUBSCRIBER_STATUSES",
    "DotSafe",
    "Edition",
    "EditionState",
    "OutboxItem",
    "OutboxState",
    "Outcome",
    "Post",
    "Problem",
    "Subscriber",
    "SubscriberStatus",
    "audience_categories",
    "audience_key",
]

SubscriberStatus = Literal["pending", "active", "unsubscribed", "bounced"]
EditionState = Literal["sending", "paused", "finished"]
OutboxState = Literal["pending", "sending", "sent", "failed"]
SUBSCRIBER_STATUSES: tuple[SubscriberStatus, ...] = get_args(SubscriberStatus)
EDITION_STATES: tuple[EditionState, ...] = get_args(EditionState)
OUTBOX_STATES: tuple[OutboxState, ...] = get_args(OutboxState)
REOPENABLE: frozenset[SubscriberStatus] = frozenset({"pending", "unsubscribed"})
"""Statuses from which an address may be added or subscribe again (never active or bounced)."""


class Post(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One published (or publishable) post, as read from its file.

    ``date`` keeps the offset the post was written with (a naive date takes the
    site's timezone, an unquoted YAML timestamp UTC, as in Jekyll); ``updated``
    is ``last_modified_at`` or ``date``.
    ``excerpt`` is plain text. ``source`` is the file's absolute path and
    ``body_offset`` the character offset where the body starts in its decoded,
    newline-normalised text, so the body can be rendered later without parsing
    the front matter again. ``stamp`` is ``"size-mtime_ns"`` of the file.
    Encoded as an array (no field names) to keep the build cache small and fast.
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


class Subscriber(msgspec.Struct, frozen=True, kw_only=True):
    """One person on the list. ``categories`` empty means every category."""

    id: int
    email: str
    name: str = ""
    status: SubscriberStatus = "pending"
    categories: tuple[str, ...] = ()
    created_at: datetime
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    bounces: int = 0


class Edition(msgspec.Struct, frozen=True, kw_only=True):
    """One issue of the digest: the posts dated in (``cutoff_from``, ``cutoff_to``]."""

    id: int
    number: int
    cutoff_from: datetime
    cutoff_to: datetime
    subject: str
    created_at: datetime
    state: EditionState = "sending"
    post_ids: tuple[str, ...] = ()
    paused_reason: str = ""
    """Why the send paused (empty unless ``state`` is paused)."""
    paused_reply: str = ""
    """What the mail server said when it paused, if it said anything."""
    resume_at: datetime | None = None
    """When ``publisher run`` and workers try a paused send again."""


class OutboxItem(msgspec.Struct, frozen=True, kw_only=True):
    """One message to send: one edition to one subscriber, with its delivery state."""

    id: int
    edition_id: int
    subscriber_id: int
    email: str
    name: str = ""
    audience: str = ""
    state: OutboxState = "pending"
    attempts: int = 0
    last_reply: str = ""
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What happened to one claimed outbox item; the store records a batch of them at once.

    ``state`` is ``"sent"`` (the server accepted it), ``"pending"`` (retry at
    ``next_attempt_at``) or ``"failed"`` (permanent, or out of attempts).
    ``bounced`` is set for a permanent failure on the recipient (5.1.x / 550).
    """

    item_id: int
    subscriber_id: int
    state: Literal["sent", "pending", "failed"]
    attempts: int
    reply: str = ""
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    bounced: bool = False


class DotSafe(bytes):
    """Message bytes in which no line starts with ".": SMTP sends them as they are.

    An SMTP client doubles a dot that starts a line (RFC 5321 §4.5.2), which
    means reading every line of every message. A producer that guarantees
    there is none (:func:`publisher.digest.message.personalize`) says so with
    this type, and the SMTP transport skips that work.

    >>> DotSafe(b"Subject: hi") == b"Subject: hi"
    True
    """

    __slots__ = ()


def audience_key(categories: tuple[str, ...] | list[str]) -> str:
    """The key of an audience group: subscribers with the same choice of categories.

    >>> audience_key(["投資分析", "Policy"]), audience_key([])
    ('Policy\\x1f投資分析', '')
    """
    return "\x1f".join(sorted(set(categories)))


def audience_categories(key: str) -> tuple[str, ...]:
    """The categories an audience key stands for (empty: every category).

    >>> audience_categories(audience_key(["投資分析", "Policy"])), audience_categories("")
    (('Policy', '投資分析'), ())
    """
    return tuple(key.split("\x1f")) if key else ()
