"""publisher.store.outbox: claims with leases, recording outcomes, releasing, retries."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from publisher.models import Outcome
from publisher.store import (
    OutboxStore,
    create_edition,
    find_subscriber,
    get_subscriber,
    import_subscribers,
    open_engine,
)

NOW = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
SOON = NOW + timedelta(minutes=1)


def edition_with(db: Engine, subscribers: int, week: int = 1) -> int:
    if subscribers:
        rows = ((n, {"email": f"u{n:05d}@example.com"}) for n in range(subscribers))
        import_subscribers(db, rows, default_status="active", now=NOW)
    cutoff = NOW + timedelta(days=7 * (week - 1))
    edition = create_edition(
        db,
        cutoff_from=cutoff - timedelta(days=7),
        cutoff_to=cutoff,
        subject="s",
        post_ids=(),
        now=cutoff,
    )
    return edition.id


def sent(item_id: int, subscriber_id: int, attempts: int = 1, reply: str = "250 ok") -> Outcome:
    return Outcome(
        item_id=item_id,
        subscriber_id=subscriber_id,
        state="sent",
        attempts=attempts,
        reply=reply,
        sent_at=NOW,
    )


def test_claim_takes_due_rows_in_id_order_and_marks_them_sending(db: Engine) -> None:
    edition_id = edition_with(db, 10)
    store = OutboxStore(db, "worker-a")
    batch = store.claim(edition_id, 4, NOW)
    assert len(batch) == 4
    assert [i.id for i in batch] == sorted(i.id for i in batch)
    assert [i.email for i in batch] == [f"u{n:05d}@example.com" for n in range(4)]
    assert all(
        i.state == "sending" and i.edition_id == edition_id and i.attempts == 0 for i in batch
    )
    assert store.counts(edition_id) == {"pending": 6, "sending": 4, "sent": 0, "failed": 0}
    assert store.claim(edition_id + 1, 4, NOW) == []


def test_two_workers_claim_disjoint_rows(db: Engine) -> None:
    edition_id = edition_with(db, 10)
    a, b = OutboxStore(db, "worker-a"), OutboxStore(db, "worker-b")
    first, second, third = (
        a.claim(edition_id, 4, NOW),
        b.claim(edition_id, 4, NOW),
        a.claim(edition_id, 4, NOW),
    )
    ids = [i.id for i in first + second + third]
    assert len(ids) == len(set(ids)) == 10
    assert b.claim(edition_id, 4, NOW) == []


def test_rows_given_back_are_claimed_again_first(db: Engine) -> None:
    edition_id = edition_with(db, 12)
    store = OutboxStore(db, "worker-a")
    first, second = store.claim(edition_id, 4, NOW), store.claim(edition_id, 4, NOW)
    store.release([i.id for i in first])
    assert [i.id for i in store.claim(edition_id, 4, NOW)] == [i.id for i in first]
    after_second = [i.id + len(second) for i in second]
    assert [i.id for i in store.claim(edition_id, 8, NOW)] == after_second


def test_rows_another_worker_gave_back_are_claimed_once_the_rest_is_taken(db: Engine) -> None:
    edition_id = edition_with(db, 10)
    a, b = OutboxStore(db, "worker-a"), OutboxStore(db, "worker-b")
    given_back = a.claim(edition_id, 4, NOW)
    b.claim(edition_id, 4, NOW)
    a.release([i.id for i in given_back])
    rest = b.claim(edition_id, 4, NOW)
    assert [i.email for i in rest] == ["u00008@example.com", "u00009@example.com"]
    assert [i.id for i in b.claim(edition_id, 4, NOW)] == [i.id for i in given_back]
    assert b.claim(edition_id, 4, NOW) == []


def test_retries_due_and_first_attempts_are_claimed_together_in_id_order(db: Engine) -> None:
    edition_id = edition_with(db, 6)
    store = OutboxStore(db, "w")
    one, two = store.claim(edition_id, 2, NOW)
    retry = Outcome(
        item_id=two.id,
        subscriber_id=two.subscriber_id,
        state="pending",
        attempts=1,
        next_attempt_at=SOON,
    )
    store.record([sent(one.id, one.subscriber_id), retry])
    assert [i.id for i in store.claim(edition_id, 2, NOW)] == [two.id + 1, two.id + 2]
    assert [i.id for i in store.claim(edition_id, 3, SOON)] == [two.id, two.id + 3, two.id + 4]


def test_an_expired_lease_is_claimed_again_and_the_old_worker_records_nothing(db: Engine) -> None:
    edition_id = edition_with(db, 3)
    crashed = OutboxStore(db, "crashed", lease_seconds=60)
    batch = crashed.claim(edition_id, 10, NOW)
    rescuer = OutboxStore(db, "rescuer")
    assert rescuer.claim(edition_id, 10, NOW + timedelta(seconds=59)) == []
    taken = rescuer.claim(edition_id, 10, NOW + timedelta(seconds=61))
    assert [i.id for i in taken] == [i.id for i in batch]

    # The first worker wakes up and reports: its claim is gone, nothing changes.
    crashed.record([sent(i.id, i.subscriber_id, reply="from the crashed worker") for i in batch])
    crashed.release([i.id for i in batch])
    assert crashed.counts(edition_id) == {"pending": 0, "sending": 3, "sent": 0, "failed": 0}

    rescuer.record([sent(i.id, i.subscriber_id) for i in taken])
    assert rescuer.counts(edition_id) == {"pending": 0, "sending": 0, "sent": 3, "failed": 0}
    assert rescuer.claim(edition_id, 10, NOW + timedelta(days=1)) == []


def test_record_saves_each_outcome(db: Engine) -> None:
    edition_id = edition_with(db, 3)
    store = OutboxStore(db, "w")
    one, two, three = store.claim(edition_id, 10, NOW)
    retry_at = NOW + timedelta(minutes=5)
    store.record(
        [
            sent(one.id, one.subscriber_id, reply="250 2.0.0 queued as ABC"),
            Outcome(
                item_id=two.id,
                subscriber_id=two.subscriber_id,
                state="pending",
                attempts=1,
                reply="451 try later",
                next_attempt_at=retry_at,
            ),
            Outcome(
                item_id=three.id,
                subscriber_id=three.subscriber_id,
                state="failed",
                attempts=1,
                reply="554 " + "x" * 1000,
            ),
        ]
    )
    assert store.counts(edition_id) == {"pending": 1, "sending": 0, "sent": 1, "failed": 1}
    with db.connect() as conn:
        rows = {r.id: r for r in conn.execute(text("SELECT * FROM outbox"))}
    assert rows[one.id].last_reply == "250 2.0.0 queued as ABC"
    assert rows[one.id].claimed_by is None and rows[one.id].claimed_until is None
    assert rows[two.id].attempts == 1
    assert len(rows[three.id].last_reply) == 500
    assert store.next_attempt_at(edition_id) == retry_at
    store.record([])


def test_a_retry_is_not_claimed_before_it_is_due(db: Engine) -> None:
    edition_id = edition_with(db, 2)
    store = OutboxStore(db, "w")
    first, second = store.claim(edition_id, 10, NOW)
    early, late = NOW + timedelta(minutes=2), NOW + timedelta(minutes=10)
    store.record(
        [
            Outcome(
                item_id=first.id,
                subscriber_id=first.subscriber_id,
                state="pending",
                attempts=1,
                next_attempt_at=late,
            ),
            Outcome(
                item_id=second.id,
                subscriber_id=second.subscriber_id,
                state="pending",
                attempts=1,
                next_attempt_at=early,
            ),
        ]
    )
    assert store.next_attempt_at(edition_id) == early
    assert store.claim(edition_id, 10, early - timedelta(seconds=1)) == []
    [again] = store.claim(edition_id, 10, early)
    assert again.id == second.id and again.attempts == 1 and again.next_attempt_at == early
    assert store.next_attempt_at(edition_id) == late
    store.record([sent(again.id, again.subscriber_id, attempts=2)])
    [last] = store.claim(edition_id, 10, late + timedelta(hours=1))
    assert last.id == first.id
    assert store.next_attempt_at(edition_id) is None


def test_release_gives_rows_back(db: Engine) -> None:
    edition_id = edition_with(db, 3)
    store = OutboxStore(db, "w")
    batch = store.claim(edition_id, 10, NOW)
    OutboxStore(db, "someone-else").release([i.id for i in batch])  # not theirs: no effect
    assert store.counts(edition_id)["sending"] == 3
    store.release([batch[0].id, batch[1].id])
    store.release([])
    assert store.counts(edition_id) == {"pending": 2, "sending": 1, "sent": 0, "failed": 0}
    again = OutboxStore(db, "other").claim(edition_id, 10, NOW)
    assert [i.id for i in again] == [batch[0].id, batch[1].id]


def test_release_dead_claims_frees_rows_of_ended_processes_on_this_host(db: Engine) -> None:
    edition_id = edition_with(db, 4)
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(ended.stdout)
    owners = [f"web1:{dead_pid}:a", f"web1:{os.getpid()}:b", f"web2:{dead_pid}:c", "web1:not-a-pid"]
    for owner in owners:
        OutboxStore(db, owner).claim(edition_id, 1, NOW)
    me = OutboxStore(db, f"web1:{os.getpid()}:me")
    assert me.release_dead_claims(edition_id, "web1") == 1
    assert me.release_dead_claims(edition_id, "web1") == 0
    [freed] = me.claim(edition_id, 10, NOW)
    assert freed.email == "u00000@example.com"  # the first row, claimed by the ended process


def test_bounces_mark_the_subscriber_bounced_at_the_limit(db: Engine) -> None:
    import_subscribers(db, [(1, {"email": "ann@example.com"})], default_status="active", now=NOW)
    ann = find_subscriber(db, "ann@example.com")
    assert ann is not None
    store = OutboxStore(db, "w", bounce_limit=2)
    for week in (1, 2):
        edition_id = edition_with(db, 0, week=week)
        [item] = store.claim(edition_id, 10, NOW)
        store.record(
            [
                Outcome(
                    item_id=item.id,
                    subscriber_id=ann.id,
                    state="failed",
                    attempts=1,
                    reply="550 5.1.1 no such user",
                    bounced=True,
                )
            ]
        )
        after = get_subscriber(db, ann.id)
        assert after is not None and after.bounces == week
    assert after.status == "bounced"
    # A bounced address gets no row in later editions.
    assert store.counts(edition_with(db, 0, week=3)) == dict.fromkeys(
        ["pending", "sending", "sent", "failed"], 0
    )


def test_a_bounce_reported_without_the_claim_is_not_counted(db: Engine) -> None:
    edition_id = edition_with(db, 1)
    store = OutboxStore(db, "w", lease_seconds=1)
    [item] = store.claim(edition_id, 10, NOW)
    OutboxStore(db, "other").claim(edition_id, 10, SOON)
    store.record(
        [
            Outcome(
                item_id=item.id,
                subscriber_id=item.subscriber_id,
                state="failed",
                attempts=1,
                bounced=True,
            )
        ]
    )
    after = get_subscriber(db, item.subscriber_id)
    assert after is not None and after.bounces == 0


def test_threads_claiming_at_once_never_share_a_row(db: Engine) -> None:
    edition_id = edition_with(db, 400)
    start = threading.Barrier(4)
    claimed: dict[str, list[int]] = {}

    def work(name: str) -> None:
        store = OutboxStore(db, name)
        mine: list[int] = []
        start.wait()
        while batch := store.claim(edition_id, 7, NOW):
            mine += [i.id for i in batch]
            store.record([sent(i.id, i.subscriber_id) for i in batch])
        claimed[name] = mine

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for ids in claimed.values() for i in ids]
    assert len(everything) == len(set(everything)) == 400
    assert OutboxStore(db, "w").counts(edition_id)["sent"] == 400


def test_postgresql_claims_skip_rows_locked_by_another_transaction(db: Engine) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's")
    edition_id = edition_with(db, 10)
    # Were the claim to wait for the lock, it would fail after 3 s instead of hanging.
    options = f"{db.url.query['options']} -clock_timeout=3000"
    claimer = open_engine(
        db.url.update_query_dict({"options": options}).render_as_string(hide_password=False)
    )
    try:
        with db.connect() as holder:
            # Another process is in the middle of claiming the first five rows.
            locked = (
                holder.execute(text("SELECT id FROM outbox ORDER BY id LIMIT 5 FOR UPDATE"))
                .scalars()
                .all()
            )
            batch = OutboxStore(claimer, "w").claim(edition_id, 10, NOW)
            assert [i.id for i in batch] == sorted(
                set(range(min(locked), min(locked) + 10)) - set(locked)
            )
            holder.rollback()
        assert [i.id for i in OutboxStore(claimer, "w2").claim(edition_id, 10, NOW)] == list(locked)
    finally:
        claimer.dispose()
