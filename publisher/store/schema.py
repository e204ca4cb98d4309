"""The database tables, as SQLAlchemy Core: subscribers, editions, the outbox, the runner.

Times are stored in UTC (:class:`UTCDateTime`) and read back as aware UTC
datetimes on every backend; lists of strings are stored as JSON text
(:class:`JSONList`). ``migrations/versions`` creates exactly these tables; a test
compares the two.

>>> sorted(metadata.tables)
['apscheduler_jobs', 'edition_messages', 'editions', 'outbox', 'runner_lock', 'subscribers']
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from publisher.models import EDITION_STATES, OUTBOX_STATES, SUBSCRIBER_STATUSES

__all__ = [
    "EDITION_STATES",
    "OUTBOX_STATES",
    "SUBSCRIBER_STATUSES",
    "JSONList",
    "UTCDateTime",
    "apscheduler_jobs",
    "edition_messages",
    "editions",
    "metadata",
    "outbox",
    "runner_lock",
    "subscribers",
]


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; naive datetimes are refused.

    SQLite has no time zones, so the value is written as naive UTC text and
    given back its ``UTC`` tzinfo when read; PostgreSQL uses ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        value = value.astimezone(UTC)
        # The SQLite dialect formats the naive fields only; make sure they are UTC.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONList(TypeDecorator[tuple[str, ...]]):
    """A tuple of strings stored as a JSON array in a text column."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(list(value), ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[str, ...] | None:
        if value is None:
            return None
        return tuple(str(item) for item in json.loads(value))


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", Text, nullable=False),
    # email_key is the address lower-cased: one subscription per mailbox, whatever the case.
    Column("email_key", Text, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("categories", JSONList, nullable=False, server_default="[]"),
    Column("audience", Text, nullable=False, server_default=""),
    Column("bounces", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("unsubscribed_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    # When the last confirmation mail went out: one per address per [web] resend_minutes.
    Column("confirm_sent_at", UTCDateTime),
    UniqueConstraint("email_key"),
    CheckConstraint(_one_of("status", SUBSCRIBER_STATUSES), name="status"),
    # Editions copy the active subscribers in id order; import upserts look up by key.
    Index(None, "status", "id"),
    # Links carry the subscriber id (publisher.tokens), so an id must never be
    # reused after a removal; SQLite reuses the highest rowid without AUTOINCREMENT.
    sqlite_autoincrement=True,
)

editions = Table(
    "editions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", Integer, nullable=False),
    Column("cutoff_from", UTCDateTime, nullable=False),
    Column("cutoff_to", UTCDateTime, nullable=False),
    Column("subject", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("state", Text, nullable=False, server_default="sending"),
    Column("post_ids", JSONList, nullable=False, server_default="[]"),
    # Why a paused send stopped, the server's last reply, when it is tried again.
    Column("paused_reason", Text, nullable=False, server_default=""),
    Column("paused_reply", Text, nullable=False, server_default=""),
    Column("resume_at", UTCDateTime),
    # Both are unique so that two processes preparing the same edition make one.
    UniqueConstraint("number"),
    UniqueConstraint("cutoff_to"),
    CheckConstraint(_one_of("state", EDITION_STATES), name="state"),
)

# Each audience's finished message (MIME bytes with the per-subscriber holes), frozen
# when the edition is created: sending never reads the posts again.
edition_messages = Table(
    "edition_messages",
    metadata,
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), nullable=False),
    Column("audience", Text, nullable=False),
    Column("message", LargeBinary, nullable=False),
    Column("posts", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("edition_id", "audience"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), nullable=False),
    Column(
        "subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False
    ),
    Column("email", Text, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("audience", Text, nullable=False, server_default=""),
    Column("state", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_reply", Text, nullable=False, server_default=""),
    Column("next_attempt_at", UTCDateTime),
    Column("claimed_by", Text),
    Column("claimed_until", UTCDateTime),
    Column("sent_at", UTCDateTime),
    # One message per subscriber per edition, however often the edition is prepared.
    UniqueConstraint("edition_id", "subscriber_id"),
    CheckConstraint(_one_of("state", OUTBOX_STATES), name="state"),
    Index(None, "edition_id", "state", "next_attempt_at"),
    Index(None, "subscriber_id"),
)

# One row per lock name: which ``publisher run`` acts, until when (renewed by its heartbeat).
runner_lock = Table(
    "runner_lock",
    metadata,
    Column("name", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# APScheduler's own table (``SQLAlchemyJobStore``), declared here so the migration
# creates it and the schema comparison knows it; the job store finds it in place.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
