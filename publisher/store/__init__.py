"""The database: subscribers, editions and the outbox (SQLAlchemy Core + Alembic).

SQLite under ``var/`` by default, PostgreSQL (psycopg 3) at scale. This is the
only package that imports SQLAlchemy; it imports nothing of publisher but
``models``, ``config`` and ``errors``. ``Engine`` is re-exported so that callers
can annotate the handle they pass around without importing SQLAlchemy.

>>> engine = open_store(settings.database_url)                # doctest: +SKIP
>>> add_subscriber(engine, "ann@example.com", now=now).status  # doctest: +SKIP
'pending'
"""

from sqlalchemy import Engine

from publisher.store.editions import (
    active_audiences,
    create_edition,
    edition_audiences,
    edition_counts,
    get_edition,
    last_cutoff,
    latest_edition,
    list_editions,
    message_templates,
    retry_outlook,
    set_edition_state,
    unfinished_edition,
)
from publisher.store.engine import current_revision, open_engine, open_store, upgrade
from publisher.store.outbox import OutboxStore
from publisher.store.returns import ReturnOutcome, record_return
from publisher.store.subscribers import (
    ImportReport,
    add_subscriber,
    claim_confirmation,
    confirm_subscriber,
    count_subscribers,
    find_subscriber,
    get_subscriber,
    import_subscribers,
    iter_subscribers,
    normalise_email,
    record_bounce,
    release_confirmation,
    remove_subscriber,
    set_categories,
    unsubscribe,
)

__all__ = [
    "Engine",
    "ImportReport",
    "OutboxStore",
    "ReturnOutcome",
    "active_audiences",
    "add_subscriber",
    "claim_confirmation",
    "confirm_subscriber",
    "count_subscribers",
    "create_edition",
    "current_revision",
    "edition_audiences",
    "edition_counts",
    "find_subscriber",
    "get_edition",
    "get_subscriber",
    "import_subscribers",
    "iter_subscribers",
    "last_cutoff",
    "latest_edition",
    "list_editions",
    "message_templates",
    "normalise_email",
    "open_engine",
    "open_store",
    "record_bounce",
    "record_return",
    "release_confirmation",
    "remove_subscriber",
    "retry_outlook",
    "set_categories",
    "set_edition_state",
    "unfinished_edition",
    "unsubscribe",
    "upgrade",
]
