"""publisher.store.lock: one `publisher run` per database (SQLite row, PostgreSQL advisory lock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from publisher.errors import RunnerBusy
from publisher.store.lock import acquire_runner_lock, runner_lock_holder

NOW = datetime(2025, 11, 20, tzinfo=UTC)
TTL = timedelta(seconds=60)


def test_a_second_runner_refuses_while_the_first_holds_the_lock(db: Engine) -> None:
    first = acquire_runner_lock(db, "host:1:a", NOW, TTL)
    try:
        with pytest.raises(RunnerBusy, match=r"already running.*host:1:a") as info:
            acquire_runner_lock(db, "host:2:b", NOW + timedelta(seconds=1), TTL)
        assert info.value.owner == "host:1:a"
        assert runner_lock_holder(db, NOW) == "host:1:a"
    finally:
        first.release()
    second = acquire_runner_lock(db, "host:2:b", NOW + timedelta(seconds=2), TTL)
    assert runner_lock_holder(db, NOW) == "host:2:b"
    second.release()
    second.release()  # twice is fine
    assert runner_lock_holder(db, NOW) is None


def test_the_heartbeat_keeps_the_lock(db: Engine) -> None:
    lock = acquire_runner_lock(db, "host:1:a", NOW, TTL)
    try:
        assert lock.renew(NOW + timedelta(seconds=50))
        with pytest.raises(RunnerBusy):
            acquire_runner_lock(db, "host:2:b", NOW + timedelta(seconds=100), TTL)
    finally:
        lock.release()


def test_an_expired_sqlite_lock_is_taken_over(tmp_path: object, db: Engine) -> None:
    if db.dialect.name != "sqlite":
        pytest.skip("PostgreSQL releases the advisory lock with the session, not by expiry")
    dead = acquire_runner_lock(db, "host:1:a", NOW, TTL)  # its process died: never renewed
    taker = acquire_runner_lock(db, "host:2:b", NOW + TTL + timedelta(seconds=1), TTL)
    assert not dead.renew(NOW + TTL + timedelta(seconds=2))  # the old one learns it lost
    assert runner_lock_holder(db, NOW) == "host:2:b"
    taker.release()
