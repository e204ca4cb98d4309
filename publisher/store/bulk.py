"""The batched upsert behind ``import_subscribers``: parse a row, write 1,000 at once.

New addresses are inserted and known ones updated by one multi-row
``INSERT ... ON CONFLICT (email_key) DO UPDATE`` per batch (SQLite and
PostgreSQL share the syntax). A blank cell never overwrites: a known subscriber
keeps their name, categories and status unless the row gives new ones, so an
import without a ``status`` column never re-subscribes someone who left.

>>> parse_row({"email": "Ann@Example.com", "categories": "Policy; Markets"}).categories
('Policy', 'Markets')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, select
from sqlalchemy.dialects import postgresql, sqlite

from publisher.errors import SubscriberError
from publisher.models import SubscriberStatus, audience_key
from publisher.store.rules import fail_unsent, normalise_email, split_categories
from publisher.store.schema import SUBSCRIBER_STATUSES, subscribers

__all__ = ["ImportRow", "parse_row", "upsert_batch"]

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
    """A valid row, or :class:`SubscriberError` (bad address, unknown status)."""
    email = normalise_email(raw.get("email") or "")
    status = (raw.get("status") or "").strip().lower() or None
    if status is not None and status not in SUBSCRIBER_STATUSES:
        raise SubscriberError(email, f"unknown status {status!r}")
    cell = (raw.get("categories") or "").strip()
    return ImportRow(
        email=email,
        name=(raw.get("name") or "").strip() or None,
        categories=split_categories(cell) if cell else None,
        status=status,  # type: ignore[arg-type]  # checked against SUBSCRIBER_STATUSES above
    )


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
