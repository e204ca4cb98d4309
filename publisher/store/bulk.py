"""The batched upsert behind ``import_subscribers``: parse a row, write 1,000 at once.

New addresses are inserted and known ones updated by one multi-row
``INSERT ... ON CONFLICT (email_key) DO UPDATE`` per batch (SQLite and
PostgreSQL share the syntax). A blank cell never overwrites: a known subscriber
keeps their name, categories and status unless the row gives new ones, so an
import without a ``status`` column never re-subscribes someone who left.

Cells come from spreadsheets, so they are cleaned before they are stored
(:func:`clean_text`): line breaks and tabs become spaces, other control
characters and bidi overrides (U+202A–U+202E, U+2066–U+2069) are dropped. A
name longer than 200 characters or a categories cell longer than 1,000 is a
bad row. Categories are separated by ``;`` or ``,``, their full-width forms
``；`` ``，``, the ideographic comma ``、`` or a line break. Every reason a row
is refused is safe to print (:func:`shown`).

>>> parse_row({"email": "Ann@Example.com", "categories": "Policy； Markets"}).categories
('Policy', 'Markets')
>>> clean_text("Ann\\nSmith\\u202e\\x1b[31m")
'Ann Smith[31m'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from publisher.errors import StoreError, SubscriberError
from publisher.models import SubscriberStatus, audience_key
from publisher.store.engine import describe_url
from publisher.store.schema import SUBSCRIBER_STATUSES, subscribers
from publisher.store.subscriber_writes import (
    NAME_LIMIT,
    clean_categories,
    clean_name,
    clean_text,
    fail_unsent,
    normalise_email,
    shown,
    split_categories,
)

__all__ = [
    "CATEGORIES_LIMIT",
    "NAME_LIMIT",
    "ImportRow",
    "clean_text",
    "parse_row",
    "shown",
    "upsert_batch",
]

CATEGORIES_LIMIT = 1000
_CATEGORY_SEPARATORS = re.compile(r"[\uff1b\uff0c\u3001\n\r\u2028\u2029]")

_UPDATED = (
    "email",
    "name",
    "status",
    "categories",
    "audience",
    "bounces",
    "confirmed_at",
    "unsubscribed_at",
    "updated_at",
)


@dataclass(frozen=True)
class ImportRow:
    """One valid input row; None means a blank cell (keep what is stored)."""

    email: str
    name: str | None
    categories: tuple[str, ...] | None
    status: SubscriberStatus | None

    @property
    def key(self) -> str:
        """The address lower-cased: what makes two rows the same subscriber."""
        return self.email.lower()

    def then(self, later: ImportRow) -> ImportRow:
        """This row with the non-blank cells of a later row for the same address."""
        return ImportRow(
            email=later.email,
            name=self.name if later.name is None else later.name,
            categories=self.categories if later.categories is None else later.categories,
            status=self.status if later.status is None else later.status,
        )


def parse_row(raw: Mapping[str, str | None]) -> ImportRow:
    """A valid row, or :class:`SubscriberError` saying why not (printable, one line)."""
    email = _address(raw.get("email") or "")
    status = clean_text(raw.get("status") or "").lower() or None
    if status is not None and status not in SUBSCRIBER_STATUSES:
        raise SubscriberError(
            email,
            f"unknown status '{shown(status)}': use one of {', '.join(SUBSCRIBER_STATUSES)}"
            " or leave it blank",
        )
    name = clean_name(email, raw.get("name") or "")
    return ImportRow(
        email=email,
        name=name or None,
        categories=_categories(email, raw.get("categories") or ""),
        status=status,  # checked against SUBSCRIBER_STATUSES above
    )


def _address(cell: str) -> str:
    try:
        return normalise_email(cell)
    except SubscriberError as exc:
        raise SubscriberError(shown(cell), shown(exc.reason, 200)) from exc


def _categories(email: str, cell: str) -> tuple[str, ...] | None:
    if len(cell) > CATEGORIES_LIMIT:
        raise SubscriberError(
            email, f"categories longer than {CATEGORIES_LIMIT:,} characters ({len(cell):,})"
        )
    text = clean_text(_CATEGORY_SEPARATORS.sub(";", cell))
    return clean_categories(clean_text(c) for c in split_categories(text)) if text else None


def upsert_batch(
    conn: Connection,
    batch: Mapping[str, ImportRow],
    default_status: SubscriberStatus,
    now: datetime,
) -> tuple[int, int]:
    """Write one batch (keyed by ``ImportRow.key``) in the caller's transaction; (added, updated).

    Whoever the batch leaves unsubscribed or bounced gets no more queued mail.
    """
    keys = list(batch)
    stored = {
        r.email_key: dict(r._mapping)
        for r in conn.execute(select(subscribers).where(subscribers.c.email_key.in_(keys)))
    }
    values = [_values(row, stored.get(key, {}), default_status, now) for key, row in batch.items()]
    conn.execute(_upsert(conn), values)
    gone = select(subscribers.c.id).where(
        subscribers.c.email_key.in_(keys),
        subscribers.c.status.in_(("unsubscribed", "bounced")),
    )
    fail_unsent(conn, gone, "unsubscribed")
    return len(batch) - len(stored), len(stored)


def write_batch(
    engine: Engine,
    batch: dict[str, ImportRow],
    status: SubscriberStatus,
    now: datetime,
    first: int,
) -> tuple[int, int]:
    """Write one batch in a transaction of its own; a refusal names ``first``, its first line."""
    try:
        with engine.begin() as conn:
            return upsert_batch(conn, batch, status, now)
    except StoreError as exc:
        raise StoreError(exc.database, _stopped(exc.reason, first)) from exc
    except DBAPIError as exc:
        reason = (str(exc.orig).strip() or type(exc.orig).__name__).splitlines()[0]
        raise StoreError(describe_url(engine.url), _stopped(reason, first)) from exc


def _stopped(reason: str, first: int) -> str:
    return (
        f"{reason}; the import stopped at the batch starting on line {first}: the rows before"
        " it were imported, none from it on (importing the file again is safe)"
    )


def _values(
    row: ImportRow, old: dict[str, Any], default_status: SubscriberStatus, now: datetime
) -> dict[str, Any]:
    status = row.status or old.get("status") or default_status
    categories = row.categories if row.categories is not None else old.get("categories", ())
    was = old.get("status")
    confirmed_at = old.get("confirmed_at")
    if status == "active" and confirmed_at is None:
        confirmed_at = now
    unsubscribed_at = old.get("unsubscribed_at") if status == "unsubscribed" else None
    if status == "unsubscribed" and was != "unsubscribed":
        unsubscribed_at = now
    return {
        "email": row.email,
        "email_key": row.key,
        "name": row.name if row.name is not None else old.get("name", ""),
        "status": status,
        "categories": categories,
        "audience": audience_key(tuple(categories)),
        # An address explicitly reactivated after bouncing starts counting again.
        "bounces": 0 if was == "bounced" and status != "bounced" else old.get("bounces", 0),
        "created_at": now,
        "confirmed_at": confirmed_at,
        "unsubscribed_at": unsubscribed_at,
        "updated_at": now,
    }


def _upsert(conn: Connection) -> Insert:
    """INSERT ... ON CONFLICT (email_key) DO UPDATE, in the connection's dialect."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(subscribers)
        return pg.on_conflict_do_update(
            index_elements=[subscribers.c.email_key],
            set_={name: pg.excluded[name] for name in _UPDATED},
        )
    if dialect == "sqlite":
        lite = sqlite.insert(subscribers)
        return lite.on_conflict_do_update(
            index_elements=[subscribers.c.email_key],
            set_={name: lite.excluded[name] for name in _UPDATED},
        )
    raise NotImplementedError(f"bulk import does not support {dialect}")
