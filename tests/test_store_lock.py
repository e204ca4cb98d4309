"""publisher.store.lock: one `publisher run` per database (SQLite row, PostgreSQL advisory lock)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from publisher.errors import PublisherError, RunnerBusy, StoreError
from publisher.store import open_engine
from publisher.store.lock import (
    RunnerLock,
    acquire_runner_lock,
    runner_lock_holder,
    wait_for_runner_lock,
)

NOW = datetime(2025, 11, 20, tzinfo=UTC)
TTL = timedelta(seconds=60)
HOST = socket.gethostname()
DEADLINE = 30.0
"""Seconds a test waits for what must happen before it gives up (never a timing claim)."""


def _sqlite_only(db: Engine) -> None:
    if db.dialect.name != "sqlite":
        pytest.skip("PostgreSQL releases the advisory lock with the session, not by expiry")


def _ended_pid() -> int:
    """The pid of a process that has ended (and was reaped, so it is no zombie)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=DEADLINE)
    return child.pid


def _why(reason: PublisherError) -> str:
    return reason.owner if isinstance(reason, RunnerBusy) else str(reason)


def _ticking(start: datetime, step: timedelta) -> Callable[[], datetime]:
    """A clock that moves on by ``step`` at every reading."""
    ticks = iter(range(100))
    return lambda: start + step * next(ticks)


class _Waiter:
    """``wait_for_runner_lock`` in a thread, with what it saw and what it returned."""

    def __init__(self, db: Engine, owner: str, poll: float = 0.05) -> None:
        self.stop = threading.Event()
        self.busy: list[str] = []
        self.seen_busy = threading.Event()
        self.result: RunnerLock | None = None
        self.thread = threading.Thread(target=self._wait, args=(db, owner, poll), daemon=True)
        self.thread.start()

    def _wait(self, db: Engine, owner: str, poll: float) -> None:
        self.result = wait_for_runner_lock(db, owner, TTL, self.stop, poll=poll, on_wait=self._on)

    def _on(self, reason: PublisherError) -> None:
        assert isinstance(reason, RunnerBusy), reason
        self.busy.append(reason.owner)
        self.seen_busy.set()

    def join(self) -> RunnerLock | None:
        self.thread.join(DEADLINE)
        assert not self.thread.is_alive(), "the waiting acquire did not return"
        return self.result


@pytest.fixture
def waiters() -> Iterator[list[_Waiter]]:
    """Waiters a test starts; each is stopped and its lock released at the end."""
    started: list[_Waiter] = []
    yield started
    for waiter in started:
        waiter.stop.set()
        waiter.thread.join(DEADLINE)
        if waiter.result is not None:
            waiter.result.release()


def test_a_second_runner_refuses_while_the_first_holds_the_lock(db: Engine) -> None:
    first = acquire_runner_lock(db, "host:1:a", TTL, now=NOW)
    try:
        with pytest.raises(RunnerBusy, match=r"already running.*host:1:a") as info:
            acquire_runner_lock(db, "host:2:b", TTL, now=NOW + timedelta(seconds=1))
        assert info.value.owner == "host:1:a"
        assert runner_lock_holder(db, NOW) == "host:1:a"
    finally:
        first.release()
    second = acquire_runner_lock(db, "host:2:b", TTL, now=NOW + timedelta(seconds=2))
    assert second.taken_from is None  # the first one had let go: nothing taken over
    assert runner_lock_holder(db, NOW) == "host:2:b"
    second.release()
    second.release()  # twice is fine
    assert runner_lock_holder(db, NOW) is None


def test_the_heartbeat_keeps_the_lock(db: Engine) -> None:
    lock = acquire_runner_lock(db, "host:1:a", TTL, now=NOW)
    try:
        assert lock.renew(NOW + timedelta(seconds=50))
        with pytest.raises(RunnerBusy):
            acquire_runner_lock(db, "host:2:b", TTL, now=NOW + timedelta(seconds=100))
    finally:
        lock.release()


def test_expiry_follows_the_real_clock(db: Engine) -> None:
    _sqlite_only(db)
    lock = acquire_runner_lock(db, "host:1:a", TTL, now=NOW)  # expired long ago...
    try:
        assert lock.renew()  # ...until renewed now, by the real clock
        with pytest.raises(RunnerBusy):
            acquire_runner_lock(db, "host:2:b", TTL)
        assert runner_lock_holder(db) == "host:1:a"
    finally:
        lock.release()


def test_an_expired_sqlite_lock_is_taken_over(db: Engine) -> None:
    _sqlite_only(db)
    dead = acquire_runner_lock(db, "host:1:a", TTL, now=NOW)  # its process hung: never renewed
    taker = acquire_runner_lock(db, "host:2:b", TTL, now=NOW + TTL + timedelta(seconds=1))
    assert taker.taken_from == "host:1:a"
    assert not dead.renew(NOW + TTL + timedelta(seconds=2))  # the old one learns it lost
    assert runner_lock_holder(db, NOW) == "host:2:b"
    taker.release()


def test_a_waiting_acquire_returns_once_the_holder_releases(
    db: Engine, waiters: list[_Waiter]
) -> None:
    holder = acquire_runner_lock(db, "host:1:a", TTL)
    try:
        waiters.append(waiter := _Waiter(db, "host:2:b"))
        assert waiter.seen_busy.wait(DEADLINE)
        assert waiter.thread.is_alive() and waiter.result is None  # still standing by
    finally:
        holder.release()
    taken = waiter.join()
    assert taken is not None and taken.taken_from == "host:1:a"
    assert waiter.busy == ["host:1:a"]  # told once, not at every poll
    assert runner_lock_holder(db) == "host:2:b"


def test_a_waiting_acquire_takes_over_once_the_lock_expires(db: Engine) -> None:
    _sqlite_only(db)
    holder = acquire_runner_lock(db, "host:1:a", TTL, now=NOW)  # hung: never renewed
    busy: list[str] = []
    taken = wait_for_runner_lock(
        db,
        "host:2:b",
        TTL,
        threading.Event(),
        poll=0,
        on_wait=lambda reason: busy.append(_why(reason)),
        clock=_ticking(NOW, timedelta(seconds=7)),
    )
    assert taken is not None and taken.taken_from == "host:1:a"
    assert busy == ["host:1:a"]  # it did wait for the expiry
    assert not holder.renew(NOW + TTL)  # the hung one stops at its next heartbeat
    taken.release()


def test_a_waiting_acquire_takes_over_at_once_from_an_ended_process_here(db: Engine) -> None:
    _sqlite_only(db)
    gone = f"{HOST}:{_ended_pid()}:dead"
    acquire_runner_lock(db, gone, TTL)  # crashed a moment ago: its row has not expired
    assert runner_lock_holder(db) is None
    busy: list[str] = []
    stop = threading.Event()  # set if it stands by, which it must not

    def on_wait(reason: PublisherError) -> None:
        busy.append(_why(reason))
        stop.set()

    taken = wait_for_runner_lock(db, "host:2:b", TTL, stop, poll=60, on_wait=on_wait)
    assert busy == []  # no waiting for the expiry
    assert taken is not None and taken.taken_from == gone
    taken.release()


@pytest.mark.parametrize("where", ["alive here", "ended elsewhere"])
def test_a_live_process_here_or_any_process_elsewhere_keeps_the_lock(
    db: Engine, where: str
) -> None:
    _sqlite_only(db)
    holder = f"{HOST}:{os.getpid()}:a" if where == "alive here" else f"far.away:{_ended_pid()}:b"
    lock = acquire_runner_lock(db, holder, TTL)
    try:
        with pytest.raises(RunnerBusy, match=holder):
            acquire_runner_lock(db, "host:2:b", TTL)
        assert runner_lock_holder(db) == holder
    finally:
        lock.release()


def test_a_waiting_acquire_takes_over_once_the_postgresql_session_ends(
    db: Engine, waiters: list[_Waiter]
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite has no session lock (see the expiry tests)")
    holder = acquire_runner_lock(db, "host:1:a", TTL)
    assert holder.session is not None
    backend = holder.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    holder.session.commit()
    waiters.append(waiter := _Waiter(db, "host:2:b"))
    assert waiter.seen_busy.wait(DEADLINE)
    with db.connect() as conn:  # the holder's process died: its session ends
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": backend})
    taken = waiter.join()
    assert taken is not None and taken.taken_from == "host:1:a"
    assert not holder.renew()  # and had it lived on, it would learn it lost
    holder.release()  # nothing of the new holder's is touched
    assert runner_lock_holder(db) == "host:2:b"


def test_a_stop_event_ends_the_wait(db: Engine, waiters: list[_Waiter]) -> None:
    holder = acquire_runner_lock(db, "host:1:a", TTL)
    try:
        waiters.append(waiter := _Waiter(db, "host:2:b", poll=3600))
        assert waiter.seen_busy.wait(DEADLINE)
        waiter.stop.set()  # mid-poll: the wait must not run out its hour
        assert waiter.join() is None
        assert runner_lock_holder(db) == "host:1:a"
    finally:
        holder.release()
    assert wait_for_runner_lock(db, "host:2:b", TTL, waiter.stop, poll=0) is None  # already set
    assert runner_lock_holder(db) is None


def test_a_standby_outlives_a_database_that_does_not_answer() -> None:
    engine = open_engine("postgresql://postgres@127.0.0.1:1/none")  # nothing listens there
    reasons: list[PublisherError] = []
    stop = threading.Event()

    def on_wait(reason: PublisherError) -> None:
        reasons.append(reason)
        stop.set()

    try:
        assert wait_for_runner_lock(engine, "host:2:b", TTL, stop, poll=0, on_wait=on_wait) is None
    finally:
        engine.dispose()
    assert len(reasons) == 1 and isinstance(reasons[0], StoreError)
    assert str(reasons[0]).startswith("database 127.0.0.1:1/none: ")
    assert "postgres@" not in str(reasons[0])
