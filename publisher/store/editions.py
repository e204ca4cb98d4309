"""Editions of the digest: the cutoff watermark, and creating an edition with its outbox.

An edition and one outbox row per active subscriber are created in one
transaction, and the subscribers are copied by the database
(``INSERT INTO outbox ... SELECT ... FROM subscribers``), never loaded into
Python. The audience is fixed at that moment: who subscribes later waits for
the next edition. The same transaction stores each audience's finished
message (``edition_messages``), so that delivering it later needs nothing but
the database. Creating is idempotent per ``cutoff_to``; the UNIQUE
constraints on ``number`` and ``cutoff_to`` make two concurrent calls end with
one edition.

>>> edition = create_edition(engine, cutoff_from=a, cutoff_to=b, subject="No. 1",
...                          post_ids=("tag:blog,2025:a",), now=b)  # doctest: +SKIP
>>> edition.number                                                 # doctest: +SKIP
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Integer, Row, Select, Text, func, literal, select, update
from sqlalchemy.exc import IntegrityError

from publisher.errors import PublisherError
from publisher.models import Edition, EditionState
from publisher.store.rows import from_row
from publisher.store.schema import (
    EDITION_STATES,
    OUTBOX_STATES,
    edition_messages,
    editions,
    outbox,
    subscribers,
)

__all__ = [
    "active_audiences",
    "create_edition",
    "edition_audiences",
    "edition_counts",
    "edition_from_row",
    "get_edition",
    "last_cutoff",
    "latest_edition",
    "list_editions",
    "message_templates",
    "retry_outlook",
    "set_edition_state",
    "unfinished_edition",
]

_ATTEMPTS = 5  # concurrent creators retry after losing the race for a number
REASON_LIMIT = 1000
"""Characters of a pause's reason and reply kept."""


def edition_from_row(row: Row[Any]) -> Edition:
    """An :class:`Edition` from a row of the ``editions`` table."""
    return from_row(row, Edition)


def last_cutoff(engine: Engine) -> datetime | None:
    """The ``cutoff_to`` of the newest edition: the next one starts after it."""
    edition = latest_edition(engine)
    return None if edition is None else edition.cutoff_to


class _Unset:
    """Marks an argument that was not given (``None`` is a meaningful ``after``)."""


_UNSET = _Unset()


def create_edition(
    engine: Engine,
    *,
    cutoff_from: datetime,
    cutoff_to: datetime,
    subject: str,
    post_ids: Sequence[str],
    now: datetime,
    audiences: Sequence[str] | None = None,
    after: datetime | _Unset | None = _UNSET,
    messages: Mapping[str, tuple[bytes, int]] | None = None,
) -> Edition:
    """The edition for ``cutoff_to``, created with its outbox rows if it does not exist.

    ``messages`` maps each audience key the edition has posts for to its
    finished message and how many posts it shows; they are stored with the
    edition, and only active subscribers of those audiences get a row.
    Without ``messages``, ``audiences`` limits the rows the same way (None:
    every active subscriber).
    ``after`` is the previous cutoff the caller planned from: if another
    process created an edition since, that newest edition is returned instead
    of a second one covering the same posts.
    """
    for _attempt in range(_ATTEMPTS):
        try:
            with engine.begin() as conn:
                existing = _one(conn, select(editions).where(editions.c.cutoff_to == cutoff_to))
                if existing is not None:
                    return existing
                newest = _one(conn, select(editions).order_by(editions.c.number.desc()).limit(1))
                if (
                    newest is not None
                    and not isinstance(after, _Unset)
                    and newest.cutoff_to != after
                ):
                    return newest  # another process made an edition since the caller planned
                # The number comes from the same read as the check above: under READ
                # COMMITTED a later statement could see an edition committed meanwhile and
                # number past it; with this number the insert collides with it instead.
                number = newest.number + 1 if newest is not None else 1
                edition_id = _insert_edition(
                    conn, number, cutoff_from, cutoff_to, subject, post_ids, now
                )
                if messages is not None:
                    _store_messages(conn, edition_id, messages)
                    audiences = list(messages)
                _fill_outbox(conn, edition_id, audiences)
                created = _one(conn, select(editions).where(editions.c.id == edition_id))
                assert created is not None
                return created
        except IntegrityError:
            continue  # another process took this number or cutoff: look again
    raise PublisherError(f"could not create the edition up to {cutoff_to.isoformat()}")


def get_edition(engine: Engine, edition_id: int) -> Edition | None:
    """The edition with this id, or None."""
    with engine.connect() as conn:
        return _one(conn, select(editions).where(editions.c.id == edition_id))


def latest_edition(engine: Engine) -> Edition | None:
    """The edition with the highest number, or None before the first."""
    with engine.connect() as conn:
        return _one(conn, select(editions).order_by(editions.c.number.desc()).limit(1))


def unfinished_edition(engine: Engine) -> Edition | None:
    """The oldest edition still sending or paused: a send to resume before a new one."""
    query = (
        select(editions)
        .where(editions.c.state.in_(("sending", "paused")))
        .order_by(editions.c.number)
        .limit(1)
    )
    with engine.connect() as conn:
        return _one(conn, query)


def list_editions(engine: Engine) -> list[tuple[Edition, dict[str, int]]]:
    """Every edition, newest first, with how many outbox rows are in each state."""
    tally = select(outbox.c.edition_id, outbox.c.state, func.count()).group_by(
        outbox.c.edition_id, outbox.c.state
    )
    with engine.connect() as conn:
        counts: dict[int, dict[str, int]] = {}
        for edition_id, state, n in conn.execute(tally):
            counts.setdefault(edition_id, dict.fromkeys(OUTBOX_STATES, 0))[state] = n
        rows = conn.execute(select(editions).order_by(editions.c.number.desc())).all()
    return [(edition_from_row(r), counts.get(r.id, dict.fromkeys(OUTBOX_STATES, 0))) for r in rows]


def edition_counts(engine: Engine, edition_id: int) -> dict[str, int]:
    """How many of the edition's outbox rows are in each state (every state is a key)."""
    query = (
        select(outbox.c.state, func.count())
        .where(outbox.c.edition_id == edition_id)
        .group_by(outbox.c.state)
    )
    counts: dict[str, int] = dict.fromkeys(OUTBOX_STATES, 0)
    with engine.connect() as conn:
        for state, n in conn.execute(query):
            counts[state] = n
    return counts


def retry_outlook(engine: Engine, edition_id: int) -> tuple[int, datetime | None, str]:
    """Rows of an edition waiting for a retry: how many, when the first is due, its last reply."""
    c = outbox.c
    waiting = (c.edition_id == edition_id, c.state == "pending", c.next_attempt_at.is_not(None))
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).where(*waiting)).scalar_one()
        first = conn.execute(
            select(c.next_attempt_at, c.last_reply).where(*waiting).order_by(c.next_attempt_at)
        ).first()
    if first is None:
        return 0, None, ""
    return int(count), first.next_attempt_at, str(first.last_reply)


def message_templates(engine: Engine, edition_id: int) -> dict[str, bytes]:
    """The finished message of each audience of an edition, as stored when it was created.

    Empty for an edition created before messages were stored (revision 0004).
    """
    query = select(edition_messages.c.audience, edition_messages.c.message).where(
        edition_messages.c.edition_id == edition_id
    )
    with engine.connect() as conn:
        return {audience: bytes(message) for audience, message in conn.execute(query)}


def set_edition_state(
    engine: Engine,
    edition_id: int,
    state: EditionState,
    *,
    reason: str = "",
    reply: str = "",
    resume_at: datetime | None = None,
) -> None:
    """Mark an edition sending, paused (why, the server's reply, when to try again) or finished."""
    if state not in EDITION_STATES:
        raise ValueError(f"unknown edition state {state!r}")
    if state != "paused":
        reason, reply, resume_at = "", "", None
    values = {
        "state": state,
        "paused_reason": reason[:REASON_LIMIT],
        "paused_reply": reply[:REASON_LIMIT],
        "resume_at": resume_at,
    }
    with engine.begin() as conn:
        result = conn.execute(update(editions).where(editions.c.id == edition_id).values(**values))
    if result.rowcount == 0:
        raise PublisherError(f"there is no edition #{edition_id}")


def edition_audiences(engine: Engine, edition_id: int) -> list[tuple[str, int]]:
    """The audience keys of an edition's outbox rows, with how many rows each has."""
    query = (
        select(outbox.c.audience, func.count())
        .where(outbox.c.edition_id == edition_id)
        .group_by(outbox.c.audience)
        .order_by(outbox.c.audience)
    )
    with engine.connect() as conn:
        return [(audience, n) for audience, n in conn.execute(query)]


def active_audiences(engine: Engine) -> list[tuple[str, int]]:
    """The audience keys of the active subscribers now, with how many have each."""
    query = (
        select(subscribers.c.audience, func.count())
        .where(subscribers.c.status == "active")
        .group_by(subscribers.c.audience)
        .order_by(subscribers.c.audience)
    )
    with engine.connect() as conn:
        return [(audience, n) for audience, n in conn.execute(query)]


def _insert_edition(
    conn: Connection,
    number: int,
    cutoff_from: datetime,
    cutoff_to: datetime,
    subject: str,
    post_ids: Sequence[str],
    now: datetime,
) -> int:
    insert = (
        editions.insert()
        .values(
            number=number,
            cutoff_from=cutoff_from,
            cutoff_to=cutoff_to,
            subject=subject,
            created_at=now,
            state="sending",
            post_ids=tuple(post_ids),
        )
        .returning(editions.c.id)
    )
    edition_id: int = conn.execute(insert).scalar_one()
    return edition_id


def _store_messages(
    conn: Connection, edition_id: int, messages: Mapping[str, tuple[bytes, int]]
) -> None:
    if messages:
        conn.execute(
            edition_messages.insert(),
            [
                {"edition_id": edition_id, "audience": key, "message": data, "posts": posts}
                for key, (data, posts) in messages.items()
            ],
        )


def _fill_outbox(conn: Connection, edition_id: int, audiences: Sequence[str] | None) -> None:
    """One pending outbox row per active subscriber, copied inside the database."""
    s = subscribers.c
    rows = (
        select(
            literal(edition_id, Integer),
            s.id,
            s.email,
            s.name,
            s.audience,
            literal("pending", Text),
            literal(0, Integer),
            literal("", Text),
        )
        .where(s.status == "active")
        .order_by(s.id)
    )
    if audiences is not None:
        rows = rows.where(s.audience.in_(list(audiences)))
    columns = [
        "edition_id",
        "subscriber_id",
        "email",
        "name",
        "audience",
        "state",
        "attempts",
        "last_reply",
    ]
    conn.execute(outbox.insert().from_select(columns, rows))


def _one(conn: Connection, query: Select[Any]) -> Edition | None:
    row = conn.execute(query).one_or_none()
    return None if row is None else edition_from_row(row)
