"""Use case: create the database or migrate it to this version's schema (``publisher db upgrade``).

>>> upgrade_database(ctx)          # doctest: +SKIP
'0004'
"""

from __future__ import annotations

from publisher.app.context import Context

__all__ = ["upgrade_database"]


def upgrade_database(ctx: Context) -> str | None:
    """Create or migrate the database; the schema revision it is at now."""
    from publisher.store.engine import current_revision

    return current_revision(ctx.migrating().engine)
