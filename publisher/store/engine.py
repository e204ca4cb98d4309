"""Open the database: SQLite by default, PostgreSQL (psycopg 3) at scale; migrate it.

SQLite connections use WAL (readers do not block the writer), enforce foreign
keys, wait up to 30 s for a lock, and start every transaction with
``BEGIN IMMEDIATE`` so that a transaction which reads and then writes (a claim,
an edition) holds the write lock from its first statement: two claimers are
serialised instead of both reading the same rows.

>>> engine = open_store("sqlite:///var/publisher.db")     # doctest: +SKIP
>>> current_revision(engine)                              # doctest: +SKIP
'0001'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, Update, create_engine, event, text
from sqlalchemy.engine import URL, make_url

__all__ = ["MIGRATIONS", "current_revision", "execute_many", "open_engine", "open_store", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_SECONDS = 30
# Any constant: PostgreSQL processes migrating at the same time take turns on it.
_MIGRATION_LOCK = 0x7075626C


def open_engine(url: str) -> Engine:
    """An Engine for ``url``; ``postgresql://`` URLs are routed to psycopg 3.

    >>> open_engine("sqlite:///var/publisher.db").dialect.name      # doctest: +SKIP
    'sqlite'
    """
    parsed = _normalise(make_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True)


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest schema (Alembic ``upgrade head``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_store(url: str) -> Engine:
    """Open the database at ``url`` and migrate it: the first run creates it."""
    engine = open_engine(url)
    upgrade(engine)
    return engine


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at; None before the first migration."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def execute_many(conn: Connection, statement: Update, rows: list[dict[str, Any]]) -> None:
    """``conn.execute(statement, rows)`` for many rows, at half the cost per row.

    SQLAlchemy prepares the parameters of each row of an executemany in Python,
    which for an UPDATE of 500 outbox rows takes longer than SQLite takes to run
    it. Here the statement is compiled once for the connection's dialect, each
    row goes through the same bind processors (an aware datetime becomes UTC
    text on SQLite), and the driver's ``executemany`` gets them as they are.
    For statements with plain bound values only (no ``IN`` list expanded later).
    """
    if not rows:
        return
    compiled = statement.compile(dialect=conn.dialect)
    fixed: dict[str, Any] = {}  # values written into the statement itself
    processors = {}
    for name, bind in compiled.binds.items():
        if not bind.required:
            fixed[name] = bind.effective_value
        processor = bind.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if processor is not None:
            processors[name] = processor
    params = []
    for row in rows:
        values = fixed | row
        for name, processor in processors.items():
            values[name] = processor(values[name])
        params.append(values)
    if compiled.positiontup is not None:  # qmark (SQLite): values in placeholder order
        order = compiled.positiontup
        conn.exec_driver_sql(str(compiled), [tuple(v[name] for name in order) for v in params])
    else:
        conn.exec_driver_sql(str(compiled), params)


def _normalise(url: URL) -> URL:
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's recipe: stop sqlite3 from issuing its own (deferred) BEGIN,
    # and emit BEGIN IMMEDIATE in the "begin" event instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    finally:
        cursor.close()


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
