"""One ``publisher run`` per database: a lock it takes at start and keeps while it runs.

SQLite: a ``runner_lock`` row with an expiry that the runner renews (its
heartbeat); a runner that died is taken over once its row has expired.
PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection
held for as long as the runner runs, so a crash releases it at once; the row is
still written, so that ``publisher schedule`` can say who runs.

>>> lock = acquire_runner_lock(engine, "host:123", now, timedelta(seconds=60))   # doctest: +SKIP
>>> lock.renew(now + timedelta(seconds=20))                                      # doctest: +SKIP
>>> lock.release()                                                               # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, text, update

from publisher.errors import RunnerBusy
from publisher.store.schema import runner_lock

__all__ = ["RunnerLock", "acquire_runner_lock", "runner_lock_holder"]

NAME = "run"
# Any constant; "publ" + "run" in ASCII, distinct from the migration lock's key.
_ADVISORY_KEY = 0x7075626C72756E


@dataclass
class RunnerLock:
    """The lock one runner holds: renew it well before ``ttl`` passes; release it at the end."""

    engine: Engine
    owner: str
    ttl: timedelta
    session: Connection | None = None
    """PostgreSQL: the connection that holds the advisory lock."""

    def renew(self, now: datetime) -> bool:
        """Push the expiry to ``now + ttl``; False if the lock was lost (taken over)."""
        if self.session is not None:
            self.session.execute(text("SELECT 1"))  # the session, and so the lock, is alive
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(runner_lock)
                .where(runner_lock.c.name == NAME, runner_lock.c.owner == self.owner)
                .values(expires_at=now + self.ttl)
            ).rowcount
        return changed == 1 or self.session is not None

    def release(self) -> None:
        """Give the lock up (safe to call twice)."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(runner_lock).where(
                    runner_lock.c.name == NAME, runner_lock.c.owner == self.owner
                )
            )
        if self.session is not None:
            self.session.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY})
            self.session.commit()
            self.session.close()
            self.session = None


def acquire_runner_lock(engine: Engine, owner: str, now: datetime, ttl: timedelta) -> RunnerLock:
    """Take the lock for ``owner``, or raise :class:`RunnerBusy` naming the holder."""
    session = _advisory_session(engine) if engine.dialect.name == "postgresql" else None
    with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, so two starts take turns here
        row = conn.execute(select(runner_lock).where(runner_lock.c.name == NAME)).first()
        if row is not None and session is None and row.owner != owner and row.expires_at > now:
            raise RunnerBusy(row.owner, row.expires_at.isoformat())
        conn.execute(delete(runner_lock).where(runner_lock.c.name == NAME))
        conn.execute(
            insert(runner_lock).values(
                name=NAME, owner=owner, acquired_at=now, expires_at=now + ttl
            )
        )
    return RunnerLock(engine, owner, ttl, session)


def runner_lock_holder(engine: Engine, now: datetime) -> str | None:
    """Who holds the lock now (as the row says), if anyone."""
    with engine.connect() as conn:
        row = conn.execute(select(runner_lock).where(runner_lock.c.name == NAME)).first()
    if row is None or (engine.dialect.name != "postgresql" and row.expires_at <= now):
        return None
    return str(row.owner)


def _advisory_session(engine: Engine) -> Connection:
    session = engine.connect()
    got = session.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _ADVISORY_KEY}).scalar()
    session.commit()  # the lock belongs to the session, not to this transaction
    if not got:
        session.close()
        with engine.connect() as conn:
            row = conn.execute(
                select(runner_lock.c.owner).where(runner_lock.c.name == NAME)
            ).first()
        raise RunnerBusy(row.owner if row else "another process (PostgreSQL advisory lock)")
    return session
