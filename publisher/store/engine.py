"""Open the database: SQLite by default, PostgreSQL (psycopg 3) at scale; migrate it.

SQLite connections use WAL (readers do not block the writer), enforce foreign
keys, wait up to 30 s for a lock, and start every transaction with
``BEGIN IMMEDIATE`` so that a transaction which reads and then writes (a claim,
an edition) holds the write lock from its first statement: two claimers are
serialised instead of both reading the same rows. A new SQLite file is created
0600 in a 0700 folder (its WAL and shared-memory files take the same mode).

Errors are mapped where they arise: a database that cannot be reached, opened
or written (SQLAlchemy's ``OperationalError`` / ``InterfaceError``, a lost
connection, an ``OSError`` making the file) becomes a
:class:`~publisher.errors.StoreError` naming the database — ``host:port/name``
or the file, never the password — with the driver's first line as the
reason. ``IntegrityError`` is left alone: the store relies on it.

>>> engine = open_store("sqlite:///var/publisher.db")     # doctest: +SKIP
>>> current_revision(engine)                              # doctest: +SKIP
'0001'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, Update, create_engine, event, text
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

from publisher.errors import ConfigError, StoreError

__all__ = [
    "MIGRATIONS",
    "SCHEMA_REVISION",
    "current_revision",
    "describe_url",
    "execute_many",
    "open_engine",
    "open_store",
    "upgrade",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_SECONDS = 30
# Any constant: PostgreSQL processes migrating at the same time take turns on it.
_MIGRATION_LOCK = 0x7075626C


def open_engine(url: str) -> Engine:
    """An Engine for ``url``; ``postgresql://`` URLs are routed to psycopg 3.

    >>> open_engine("sqlite:///var/publisher.db").dialect.name      # doctest: +SKIP
    'sqlite'
    """
    try:
        parsed = _normalise(make_url(url))
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError("database.url", f"not a usable database URL: {exc}") from exc
    name = describe_url(parsed)
    event.listen(engine, "handle_error", lambda context: _map_error(name, context))
    return engine


def describe_url(url: URL | str) -> str:
    """The database, named for people: ``host:port/name`` or the SQLite file; no password.

    >>> describe_url("postgresql://ann:secret@db.example.com:5433/news")
    'db.example.com:5433/news'
    >>> describe_url("sqlite:////srv/blog/.publisher/publisher.db")
    '/srv/blog/.publisher/publisher.db'
    """
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.host or 'localhost'}{port}/{parsed.database or ''}"


def _map_error(name: str, context: ExceptionContext) -> None:
    """SQLAlchemy's ``handle_error`` hook: a StoreError in place of unreachable-database errors."""
    error = context.sqlalchemy_exception
    if isinstance(error, (OperationalError, InterfaceError)) or context.is_disconnect:
        raise StoreError(name, _first_line(context.original_exception)) from error


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest schema (Alembic ``upgrade head``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, "head")
        except CommandError as exc:  # e.g. a revision this version does not know
            raise StoreError(
                describe_url(engine.url),
                f"cannot migrate: {exc} (a newer publisher may have written this database)",
            ) from exc


SCHEMA_REVISION = "0004"
"""The Alembic revision this version's code is written for (a test keeps it the head)."""


def open_store(url: str, migrate: bool = True) -> Engine:
    """Open the database at ``url``; a new (empty) one is always created.

    ``migrate``: bring an older schema up to date. Without it, a database at
    another revision is a :class:`StoreError` saying what to run: one-shot
    commands leave upgrading to ``publisher db upgrade`` and the long-running
    commands, so that a schema change happens once, on purpose.
    """
    engine = open_engine(url)
    found = current_revision(engine)
    if found is None or migrate:
        upgrade(engine)
    elif found != SCHEMA_REVISION:
        engine.dispose()
        raise StoreError(
            describe_url(engine.url),
            f"its schema is at revision {found} and this publisher needs {SCHEMA_REVISION}:"
            " run `publisher db upgrade` (publisher run, worker and serve also do at start)",
        )
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
        _create_private_file(Path(database))
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _create_private_file(path: Path) -> None:
    """Make the database file 0600 (and its folder 0700) before SQLite creates it 0644."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError as exc:
        raise StoreError(str(path), exc.strerror or str(exc)) from exc


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
