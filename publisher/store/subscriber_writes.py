"""The rules every writer of subscribers applies, shared by the single and bulk paths.

Addresses are validated and normalised one way; a name is cleaned one way
(:func:`clean_name`, whatever its source: the CLI, the web form or a CSV
file); a category choice is cleaned one way; and when someone leaves or
bounces, their queued mail is stopped in the same transaction that records it.
The functions taking a ``Connection`` run inside the caller's transaction.

>>> normalise_email(" Ann@EXAMPLE.com ")
'Ann@example.com'
>>> split_categories("Policy; Markets,Policy")
('Policy', 'Markets')
>>> clean_name("ann@example.com", "Ann\\nSmith\\u202e\\x1b]0;owned\\x07")
'Ann Smith]0;owned'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Select,
    and_,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from publisher.errors import SubscriberError
from publisher.models import REOPENABLE, Subscriber, audience_key
from publisher.store.rows import from_row
from publisher.store.schema import outbox, subscribers

__all__ = [
    "NAME_LIMIT",
    "add_bounce",
    "add_pending",
    "claim_confirmation",
    "clean_categories",
    "clean_name",
    "clean_text",
    "confirm_subscriber",
    "count_signups",
    "fail_unsent",
    "normalise_email",
    "purge_expired_pending",
    "release_confirmation",
    "shown",
    "split_categories",
    "subscriber_from_row",
    "take_off_list",
]

NAME_LIMIT = 200
_SEPARATORS = re.compile(r"[;,]")
_BREAKS = re.compile(r"[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]")
_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SPACES = re.compile(r" {2,}")


def normalise_email(email: str) -> str:
    """The address in normal form, or :class:`SubscriberError` saying why it is not valid."""
    text = email.strip()
    if not text:
        raise SubscriberError(email, "no email address")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise SubscriberError(text, str(exc)) from exc


def clean_text(cell: str) -> str:
    """Text as stored: breaks and tabs as spaces, no control or bidi override characters."""
    text = _INVISIBLE.sub("", _BREAKS.sub(" ", cell))
    return _SPACES.sub(" ", text).strip()


def clean_name(email: str, name: str) -> str:
    """A subscriber's name as stored (:func:`clean_text`), whoever gave it.

    :class:`SubscriberError` for a name longer than :data:`NAME_LIMIT` characters.
    """
    cleaned = clean_text(name)
    if len(cleaned) > NAME_LIMIT:
        raise SubscriberError(email, f"name longer than {NAME_LIMIT} characters ({len(cleaned):,})")
    return cleaned


def shown(text: str, limit: int = 80) -> str:
    """``text`` safe to print on one line: unprintable characters escaped, cut at ``limit``."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return _UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", cut)


def clean_categories(categories: Iterable[str]) -> tuple[str, ...]:
    """Stripped, non-empty, de-duplicated category names in their first order."""
    return tuple(dict.fromkeys(c.strip() for c in categories if c.strip()))


def split_categories(cell: str) -> tuple[str, ...]:
    """Categories written in one cell, separated by ``;`` or ``,``."""
    return clean_categories(_SEPARATORS.split(cell))


def subscriber_from_row(row: Row[Any]) -> Subscriber:
    """A :class:`Subscriber` from a row of the ``subscribers`` table."""
    return from_row(row, Subscriber)


def fail_unsent(
    conn: Connection, subscriber_ids: Sequence[int] | Select[tuple[int]], reason: str
) -> None:
    """Fail these subscribers' outbox rows not yet sent, so none goes out any more.

    A row being sent loses its claim too: the worker's later record of it
    changes nothing (see ``OutboxStore.record``).
    """
    conn.execute(
        update(outbox)
        .where(
            outbox.c.subscriber_id.in_(subscriber_ids),
            outbox.c.state.in_(("pending", "sending")),
        )
        .values(state="failed", last_reply=reason, claimed_by=None, claimed_until=None)
    )


def take_off_list(conn: Connection, subscriber_id: int, now: datetime) -> bool:
    """Unsubscribe someone and fail their unsent mail; whether they were on the list."""
    changed = conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.status != "unsubscribed")
        .values(status="unsubscribed", unsubscribed_at=now, updated_at=now)
    ).rowcount
    fail_unsent(conn, [subscriber_id], "unsubscribed")
    return bool(changed)


def add_bounce(conn: Connection, subscriber_id: int, limit: int, now: datetime | None) -> None:
    """Count one bounce; at ``limit`` an active or pending subscriber becomes bounced.

    ``now`` None leaves ``updated_at`` as it is.
    """
    bounces = subscribers.c.bounces + 1
    at_limit = and_(bounces >= limit, subscribers.c.status.in_(("active", "pending")))
    changes: dict[str, Any] = {
        "bounces": bounces,
        "status": case((at_limit, "bounced"), else_=subscribers.c.status),
    }
    if now is not None:
        changes["updated_at"] = now
    conn.execute(update(subscribers).where(subscribers.c.id == subscriber_id).values(changes))
    bounced = select(subscribers.c.id).where(
        subscribers.c.id == subscriber_id, subscribers.c.status == "bounced"
    )
    fail_unsent(conn, bounced, "bounced")


def add_pending(
    engine: Engine, email: str, name: str, categories: Iterable[str], now: datetime
) -> Subscriber | None:
    """Insert a new pending address; None when the address is already stored (nothing changed).

    Insert only: a sign-up from the public form never rewrites a stored row.
    """
    address = normalise_email(email)
    chosen = clean_categories(categories)
    values: dict[str, Any] = {
        "email": address,
        "email_key": address.lower(),
        "name": clean_name(address, name),
        "categories": chosen,
        "audience": audience_key(chosen),
        "status": "pending",
        "created_at": now,
        "updated_at": now,
        "bounces": 0,
    }
    try:
        with engine.begin() as conn:
            new_id = conn.execute(
                subscribers.insert().values(values).returning(subscribers.c.id)
            ).scalar_one()
            row = conn.execute(select(subscribers).where(subscribers.c.id == new_id)).one()
    except IntegrityError:
        return None  # stored already (by another request meanwhile, too)
    return subscriber_from_row(row)


def count_signups(engine: Engine, since: datetime) -> int:
    """Addresses added as pending, or sent a confirm link, after ``since``."""
    recent = or_(
        subscribers.c.confirm_sent_at > since,
        and_(subscribers.c.status == "pending", subscribers.c.created_at > since),
    )
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(recent)).scalar_one())


def purge_expired_pending(engine: Engine, before: datetime) -> int:
    """Delete pending addresses whose last confirm link was made before ``before``; how many.

    Never touches anyone active, bounced or unsubscribed; safe to repeat.
    """
    last_link = func.coalesce(subscribers.c.confirm_sent_at, subscribers.c.created_at)
    with engine.begin() as conn:
        result = conn.execute(
            delete(subscribers).where(subscribers.c.status == "pending", last_link < before)
        )
    return int(result.rowcount)


def confirm_subscriber(
    engine: Engine,
    subscriber_id: int,
    now: datetime,
    *,
    issued: datetime | None = None,
    choice: tuple[str, tuple[str, ...]] | None = None,
) -> Subscriber:
    """Pending becomes active; anyone else (unsubscribed, too) is returned unchanged.

    ``choice`` (name, categories) is what a link asked for, ``issued`` when it
    was made: the choice replaces the stored one (an empty name keeps the
    stored name), and someone who unsubscribed before ``issued`` (within its
    second) becomes active too: they asked for this link after leaving.
    """
    status = subscribers.c.status
    reopen = status == "pending"
    if issued is not None and choice is not None:
        left = subscribers.c.unsubscribed_at
        reopen = reopen | ((status == "unsubscribed") & (left.is_(None) | (left <= issued)))
    values: dict[str, Any] = {"status": "active", "confirmed_at": now, "updated_at": now}
    if choice is not None:
        name = clean_name(f"subscriber {subscriber_id}", choice[0])
        chosen = clean_categories(choice[1])
        values.update(categories=chosen, audience=audience_key(chosen))
        values.update({"name": name} if name else {})
    with engine.begin() as conn:
        conn.execute(
            update(subscribers).where(subscribers.c.id == subscriber_id, reopen).values(values)
        )
        return _one(conn, subscriber_id)


def claim_confirmation(engine: Engine, subscriber_id: int, now: datetime, every: timedelta) -> bool:
    """Take the right to mail a confirm link now: at most one per ``every`` and address.

    For someone pending or unsubscribed (who may ask to come back). One
    conditional ``UPDATE``, so two requests racing for one address send one
    mail. False: someone is active or bounced, or was mailed too lately.
    """
    sent = subscribers.c.confirm_sent_at
    with engine.begin() as conn:
        claimed = conn.execute(
            update(subscribers)
            .where(subscribers.c.id == subscriber_id, subscribers.c.status.in_(sorted(REOPENABLE)))
            .where(sent.is_(None) | (sent <= now - every))
            .values(confirm_sent_at=now)
        ).rowcount
    return bool(claimed)


def release_confirmation(engine: Engine, subscriber_id: int, claimed_at: datetime) -> None:
    """Undo :func:`claim_confirmation` of ``claimed_at`` when its mail could not be sent."""
    sent = subscribers.c.confirm_sent_at
    with engine.begin() as conn:
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id == subscriber_id, sent == claimed_at)
            .values(confirm_sent_at=None)
        )


def _one(conn: Connection, subscriber_id: int) -> Subscriber:
    row = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).one_or_none()
    if row is None:
        raise SubscriberError(f"#{subscriber_id}", "no such subscriber")
    return subscriber_from_row(row)
