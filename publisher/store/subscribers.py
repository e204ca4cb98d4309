"""Subscribers: add, confirm, unsubscribe, remove, import, list, count, and their bounces.

An address is validated and normalised with ``email_validator`` and is unique
ignoring case (``email_key``). Leaving the list is final for pending mail: an
unsubscribe fails every outbox row of that person not yet sent, and confirming
an old link afterwards does not bring them back.

>>> sub = add_subscriber(engine, "Ann@Example.com", now=now)   # doctest: +SKIP
>>> confirm_subscriber(engine, sub.id, now).status             # doctest: +SKIP
'active'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from publisher.errors import SubscriberError
from publisher.models import REOPENABLE, Subscriber, SubscriberStatus, audience_key
from publisher.store.bulk import ImportRow, parse_row, write_batch
from publisher.store.schema import SUBSCRIBER_STATUSES, subscribers
from publisher.store.subscriber_writes import (
    add_bounce,
    add_pending,
    claim_confirmation,
    clean_categories,
    clean_name,
    confirm_subscriber,
    count_signups,
    normalise_email,
    purge_expired_pending,
    release_confirmation,
    subscriber_from_row,
    take_off_list,
)

__all__ = [
    "ImportReport",
    "add_pending",
    "add_subscriber",
    "claim_confirmation",
    "confirm_subscriber",
    "count_signups",
    "count_subscribers",
    "find_subscriber",
    "get_subscriber",
    "import_subscribers",
    "iter_subscribers",
    "normalise_email",
    "purge_expired_pending",
    "record_bounce",
    "release_confirmation",
    "remove_subscriber",
    "set_categories",
    "unsubscribe",
]

PAGE_SIZE = 1000
BATCH_SIZE = 1000


def add_subscriber(
    engine: Engine,
    email: str,
    *,
    name: str = "",
    categories: Iterable[str] = (),
    status: SubscriberStatus = "pending",
    now: datetime,
) -> Subscriber:
    """Add an address; someone pending or unsubscribed is set to ``status`` again.

    The name is cleaned as every stored name is (``clean_name``: line breaks
    and tabs become spaces, control characters and bidi overrides go).
    Raises :class:`SubscriberError` for an invalid address or one already
    active (or bounced), whatever its case, or a name over 200 characters.
    """
    address = normalise_email(email)
    _check_status(address, status)
    chosen = clean_categories(categories)
    cleaned = clean_name(address, name)
    for _attempt in range(2):
        try:
            with engine.begin() as conn:
                return _add(conn, address, cleaned, chosen, status, now)
        except IntegrityError:
            continue  # added by another process meanwhile: read it again
    raise SubscriberError(address, "already subscribed")


def get_subscriber(engine: Engine, subscriber_id: int) -> Subscriber | None:
    """The subscriber with this id, or None."""
    with engine.connect() as conn:
        return _fetch(conn, subscriber_id)


def find_subscriber(engine: Engine, email: str) -> Subscriber | None:
    """The subscriber with this address (ignoring case), or None."""
    query = select(subscribers).where(subscribers.c.email_key == _lookup_key(email))
    with engine.connect() as conn:
        row = conn.execute(query).one_or_none()
    return None if row is None else subscriber_from_row(row)


def unsubscribe(engine: Engine, subscriber_id: int, now: datetime) -> Subscriber:
    """Take someone off the list and fail their unsent outbox rows; safe to repeat."""
    with engine.begin() as conn:
        take_off_list(conn, subscriber_id, now)
        return _require(conn, subscriber_id)


def remove_subscriber(engine: Engine, email: str) -> bool:
    """Delete an address and its outbox rows; whether there was one."""
    with engine.begin() as conn:
        result = conn.execute(
            delete(subscribers).where(subscribers.c.email_key == _lookup_key(email))
        )
    return result.rowcount > 0


def set_categories(
    engine: Engine, subscriber_id: int, categories: Iterable[str], now: datetime
) -> Subscriber:
    """Replace someone's choice of categories (empty: every category)."""
    chosen = clean_categories(categories)
    with engine.begin() as conn:
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id == subscriber_id)
            .values(categories=chosen, audience=audience_key(chosen), updated_at=now)
        )
        return _require(conn, subscriber_id)


def iter_subscribers(
    engine: Engine, status: SubscriberStatus | None = None
) -> Iterator[Subscriber]:
    """Every subscriber (of one status) in id order, read 1,000 at a time."""
    last_id = 0
    while True:
        query = select(subscribers).where(subscribers.c.id > last_id)
        if status is not None:
            query = query.where(subscribers.c.status == status)
        with engine.connect() as conn:
            page = [
                subscriber_from_row(r)
                for r in conn.execute(query.order_by(subscribers.c.id).limit(PAGE_SIZE))
            ]
        yield from page
        if len(page) < PAGE_SIZE:
            return
        last_id = page[-1].id


def count_subscribers(engine: Engine) -> dict[str, int]:
    """How many subscribers have each status (every status is a key)."""
    query = select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
    counts: dict[str, int] = dict.fromkeys(SUBSCRIBER_STATUSES, 0)
    with engine.connect() as conn:
        for key, n in conn.execute(query):
            counts[key] = n
    return counts


@dataclass(frozen=True)
class ImportReport:
    """What an import did; ``problems`` are the ``(line, reason)`` of the skipped rows."""

    added: int = 0
    updated: int = 0
    skipped: int = 0
    problems: tuple[tuple[int, str], ...] = ()
    categories: Mapping[str, int] = field(default_factory=dict)
    """Each category the imported rows chose, and by how many rows."""


def import_subscribers(
    engine: Engine,
    rows: Iterable[tuple[int, Mapping[str, str | None]]],
    *,
    default_status: SubscriberStatus,
    now: datetime,
) -> ImportReport:
    """Insert new addresses and update known ones, 1,000 rows a transaction.

    Each row is ``(line number, {"email", "name", "categories", "status"})``;
    categories are separated by ``;`` or ``,``; a blank cell keeps what is
    stored (see ``publisher.store.bulk``). A bad row is reported and skipped.
    A batch the database refuses is rolled back whole and raises
    :class:`StoreError` naming its first line; the batches before it stay.

    >>> rows = [(2, {"email": "ann@example.com", "categories": "Policy; Markets"})]
    >>> import_subscribers(engine, rows, default_status="active", now=now)  # doctest: +SKIP
    ImportReport(added=1, updated=0, skipped=0, problems=(), categories={'Policy': 1, ...})
    """
    _check_status("(import)", default_status)
    added = updated = 0
    problems: list[tuple[int, str]] = []
    batch: dict[str, ImportRow] = {}
    chosen: Counter[str] = Counter()
    first = 0  # the line of the batch's first row
    for line, raw in rows:
        try:
            row = parse_row(raw)
        except SubscriberError as exc:
            problems.append((line, exc.reason))
            continue
        chosen.update(row.categories or ())
        first = first if batch else line
        if row.key in batch:
            updated += 1  # the address is on an earlier line too
            row = batch[row.key].then(row)
        batch[row.key] = row
        if len(batch) >= BATCH_SIZE:
            new, known = write_batch(engine, batch, default_status, now, first)
            added, updated, batch = added + new, updated + known, {}
    if batch:
        new, known = write_batch(engine, batch, default_status, now, first)
        added, updated = added + new, updated + known
    return ImportReport(added, updated, len(problems), tuple(problems), dict(chosen))


def record_bounce(
    engine: Engine, subscriber_id: int, limit: int, now: datetime
) -> Subscriber | None:
    """Count one bounce; at ``limit`` bounces the subscriber is marked bounced."""
    with engine.begin() as conn:
        add_bounce(conn, subscriber_id, limit, now)
        return _fetch(conn, subscriber_id)


def _add(
    conn: Connection,
    address: str,
    name: str,
    categories: tuple[str, ...],
    status: SubscriberStatus,
    now: datetime,
) -> Subscriber:
    key = address.lower()
    row = conn.execute(select(subscribers).where(subscribers.c.email_key == key)).one_or_none()
    values: dict[str, Any] = {
        "email": address,
        "categories": categories,
        "audience": audience_key(categories),
        "status": status,
        "confirmed_at": now if status == "active" else None,
        "unsubscribed_at": now if status == "unsubscribed" else None,
        "updated_at": now,
    }
    if row is None:
        values.update(email_key=key, name=name, created_at=now, bounces=0)
        inserted = subscribers.insert().values(values).returning(subscribers.c.id)
        new_id: int = conn.execute(inserted).scalar_one()
        return _require(conn, new_id)
    if row.status not in REOPENABLE:
        raise SubscriberError(address, "already subscribed")
    values["name"] = name or row.name
    conn.execute(update(subscribers).where(subscribers.c.id == row.id).values(values))
    return _require(conn, row.id)


def _fetch(conn: Connection, subscriber_id: int) -> Subscriber | None:
    row = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).one_or_none()
    return None if row is None else subscriber_from_row(row)


def _require(conn: Connection, subscriber_id: int) -> Subscriber:
    found = _fetch(conn, subscriber_id)
    if found is None:
        raise SubscriberError(f"#{subscriber_id}", "no such subscriber")
    return found


def _lookup_key(email: str) -> str:
    try:
        return normalise_email(email).lower()
    except SubscriberError:
        return email.strip().lower()


def _check_status(email: str, status: str) -> None:
    if status not in SUBSCRIBER_STATUSES:
        raise SubscriberError(email, f"unknown status {status!r}")
