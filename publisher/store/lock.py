"""One ``publisher run`` per database: a lock it takes at start and keeps while it runs.

SQLite: a ``runner_lock`` row with an expiry that the runner renews (its
heartbeat); a runner that died is taken over once its row has expired, or at
once when the row names a process of this host that has ended.
PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection
held for as long as the runner runs, so a crash releases it at once; the row is
still written, so that ``publisher schedule`` can say who runs.

Expiry follows the real clock (``now`` is for tests only). A standby waits with
:func:`wait_for_runner_lock`, trying again every ``poll`` seconds.

>>> lock = acquire_runner_lock(engine, "host:123:ab", timedelta(seconds=60))   # doctest: +SKIP
>>> lock.renew()                                                              # doctest: +SKIP
>>> lock.release()                                                            # doctest: +SKIP
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from publisher.errors import PublisherError, RunnerBusy, StoreError
from publisher.store.processes import ended_here
from publisher.store.schema import runner_lock

__all__ = ["RunnerLock", "acquire_runner_lock", "runner_lock_holder", "wait_for_runner_lock"]

NAME = "run"
# Any constant; "publ" + "run" in ASCII, distinct from the migration lock's key.
_ADVISORY_KEY = 0x7075626C72756E


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunnerLock:
    """The lock one runner holds: renew it well before ``ttl`` passes; release it at the end."""

    engine: Engine
    owner: str
    ttl: timedelta
    session: Connection | None = None
    """PostgreSQL: the connection that holds the advisory lock."""
    taken_from: str | None = None
    """The runner this lock was taken over from: one that stopped, died or let it expire."""

    def renew(self, now: datetime | None = None) -> bool:
        """Push the expiry to ``now + ttl``; False if the lock was lost (taken over)."""
        if self.session is not None and not self._session_alive():
            return False
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(runner_lock)
                .where(runner_lock.c.name == NAME, runner_lock.c.owner == self.owner)
                .values(expires_at=(now or _utc_now()) + self.ttl)
            ).rowcount
        return changed == 1 or self.session is not None

    def _session_alive(self) -> bool:
        """PostgreSQL: whether the session, and so the advisory lock, is still there."""
        assert self.session is not None
        try:
            self.session.execute(text("SELECT 1"))
            self.session.commit()  # not left idle in a transaction
        except (DBAPIError, StoreError):  # the connection is gone, and the lock with it
            self.session.invalidate()
            self.session.close()
            self.session = None
            return False
        return True

    def release(self) -> None:
        """Give the lock up (safe to call twice)."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(runner_lock).where(
                    runner_lock.c.name == NAME, runner_lock.c.owner == self.owner
                )
            )
        if self.session is not None:
            _unlock(self.session)
            self.session = None


def acquire_runner_lock(
    engine: Engine,
    owner: str,
    ttl: timedelta,
    *,
    now: datetime | None = None,
    host: str | None = None,
) -> RunnerLock:
    """Take the lock for ``owner``, or raise :class:`RunnerBusy` naming the holder.

    ``host`` (default: this machine's name) is where a holder whose process has
    ended no longer counts (SQLite; on PostgreSQL its session ended with it).
    """
    now = now or _utc_now()
    here = host or socket.gethostname()
    session = _advisory_session(engine) if engine.dialect.name == "postgresql" else None
    try:
        with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, so two starts take turns here
            row = conn.execute(select(runner_lock).where(runner_lock.c.name == NAME)).first()
            if session is None and row is not None and _still_held(row, owner, now, here):
                raise RunnerBusy(row.owner, row.expires_at.isoformat())
            conn.execute(delete(runner_lock).where(runner_lock.c.name == NAME))
            conn.execute(
                insert(runner_lock).values(
                    name=NAME, owner=owner, acquired_at=now, expires_at=now + ttl
                )
            )
    except BaseException:
        if session is not None:
            _unlock(session)
        raise
    previous = row.owner if row is not None and row.owner != owner else None
    return RunnerLock(engine, owner, ttl, session, previous)


def wait_for_runner_lock(
    engine: Engine,
    owner: str,
    ttl: timedelta,
    stop: threading.Event,
    *,
    poll: float,
    on_wait: Callable[[PublisherError], object] | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> RunnerLock | None:
    """Take the lock as soon as it is free, trying every ``poll`` seconds; None if stopped.

    ``on_wait`` hears why it waits whenever that changes: :class:`RunnerBusy`
    for each new holder, :class:`StoreError` when the database does not answer
    (it keeps trying: a standby outlives a database restart). The lock returned
    names the last holder seen as ``taken_from``.
    """
    seen: str | None = None
    told: str | None = None
    while not stop.is_set():
        attempt = _attempt(engine, owner, ttl, clock())
        if isinstance(attempt, RunnerLock):
            if stop.is_set():  # stopped while taking it: start nothing
                attempt.release()
                return None
            attempt.taken_from = attempt.taken_from or seen
            return attempt
        if isinstance(attempt, RunnerBusy):
            seen = attempt.owner
        reason = seen if isinstance(attempt, RunnerBusy) else str(attempt)
        if reason != told and on_wait is not None:
            on_wait(attempt)
        told = reason
        stop.wait(poll)
    return None


def _attempt(
    engine: Engine, owner: str, ttl: timedelta, now: datetime
) -> RunnerLock | RunnerBusy | StoreError:
    try:
        return acquire_runner_lock(engine, owner, ttl, now=now)
    except RunnerBusy as busy:
        return busy
    except StoreError as exc:  # unreachable, restarting, locked past the busy timeout
        return exc


def runner_lock_holder(engine: Engine, now: datetime | None = None) -> str | None:
    """Who holds the lock now (as the row says), if anyone."""
    with engine.connect() as conn:
        row = conn.execute(select(runner_lock).where(runner_lock.c.name == NAME)).first()
    if row is None or engine.dialect.name == "postgresql":
        return None if row is None else str(row.owner)
    if row.expires_at <= (now or _utc_now()) or ended_here(row.owner, socket.gethostname()):
        return None
    return str(row.owner)


def _still_held(row: Row[Any], owner: str, now: datetime, host: str) -> bool:
    """SQLite: whether the lock row is another runner's, not expired, not of an ended process."""
    return bool(row.owner != owner and row.expires_at > now and not ended_here(row.owner, host))


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


def _unlock(session: Connection) -> None:
    """Give the advisory lock back before the connection returns to the pool."""
    session.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY})
    session.commit()
    session.close()
