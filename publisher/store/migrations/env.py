"""Alembic environment: run migrations on the connection :func:`upgrade` hands over.

``publisher.store.engine.upgrade`` configures Alembic in code and passes its
open connection in ``config.attributes["connection"]``; no ``alembic.ini`` is
needed. Run by hand (``alembic -x url=sqlite:///var/publisher.db upgrade head``
with ``script_location`` pointing here), it opens the URL given with ``-x url=``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from publisher.store.engine import open_engine
from publisher.store.schema import metadata

__all__: list[str] = []


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: later migrations copy the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database with -x url=... or sqlalchemy.url")
    engine = open_engine(url)
    with engine.begin() as own:
        _run(own)
    engine.dispose()


_main()
