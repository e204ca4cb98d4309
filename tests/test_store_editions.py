"""publisher.store.editions: the watermark, idempotent creation, audiences, listing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from publisher.errors import PublisherError
from publisher.models import Edition
from publisher.store import (
    OutboxStore,
    active_audiences,
    add_subscriber,
    create_edition,
    edition_audiences,
    edition_counts,
    get_edition,
    import_subscribers,
    last_cutoff,
    latest_edition,
    list_editions,
    set_edition_state,
    unfinished_edition,
    unsubscribe,
)

NOW = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def edition_for(db: Engine, week: int, subject: str = "") -> Edition:
    cutoff = NOW + week * WEEK
    return create_edition(
        db,
        cutoff_from=cutoff - WEEK,
        cutoff_to=cutoff,
        subject=subject or f"Week {week}",
        post_ids=(f"tag:blog.example.com,2025:{week}",),
        now=cutoff,
    )


def test_an_empty_database_has_no_watermark(db: Engine) -> None:
    assert last_cutoff(db) is None
    assert latest_edition(db) is None
    assert unfinished_edition(db) is None
    assert list_editions(db) == []


def test_create_edition_queues_one_row_per_active_subscriber(db: Engine) -> None:
    for n in range(5):
        add_subscriber(db, f"active{n}@example.com", status="active", now=NOW)
    add_subscriber(db, "pending@example.com", now=NOW)
    gone = add_subscriber(db, "gone@example.com", status="active", now=NOW)
    unsubscribe(db, gone.id, NOW)
    add_subscriber(db, "bounced@example.com", status="bounced", now=NOW)

    edition = edition_for(db, 1, subject="政策ウィークリー No. 1")
    assert edition.number == 1 and edition.state == "sending"
    assert edition.subject == "政策ウィークリー No. 1"
    assert edition.post_ids == ("tag:blog.example.com,2025:1",)
    assert edition.cutoff_to == NOW + WEEK and edition.cutoff_to.tzinfo == UTC
    assert get_edition(db, edition.id) == edition
    store = OutboxStore(db, "w")
    assert store.counts(edition.id) == {"pending": 5, "sending": 0, "sent": 0, "failed": 0}
    items = store.claim(edition.id, 100, NOW + WEEK)
    assert sorted(i.email for i in items) == [f"active{n}@example.com" for n in range(5)]
    assert len({i.subscriber_id for i in items}) == 5


def test_create_edition_is_idempotent_per_cutoff(db: Engine) -> None:
    add_subscriber(db, "ann@example.com", status="active", now=NOW)
    first = edition_for(db, 1)
    add_subscriber(db, "late@example.com", status="active", now=NOW + WEEK)
    again = edition_for(db, 1, subject="a different subject")
    assert again == first
    # The audience was fixed when the edition was created.
    assert OutboxStore(db, "w").counts(first.id)["pending"] == 1
    assert len(list_editions(db)) == 1


def test_editions_are_numbered_in_order_and_the_watermark_follows(db: Engine) -> None:
    numbers = [edition_for(db, week).number for week in (1, 2, 3)]
    assert numbers == [1, 2, 3]
    assert last_cutoff(db) == NOW + 3 * WEEK
    latest = latest_edition(db)
    assert latest is not None and latest.number == 3
    assert [e.number for e, _ in list_editions(db)] == [3, 2, 1]  # newest first


def test_an_edition_with_no_one_to_send_to_still_exists(db: Engine) -> None:
    edition = edition_for(db, 1)
    assert OutboxStore(db, "w").counts(edition.id) == dict.fromkeys(
        ["pending", "sending", "sent", "failed"], 0
    )


def test_unfinished_edition_is_the_oldest_sending_or_paused(db: Engine) -> None:
    one, two, three = (edition_for(db, week) for week in (1, 2, 3))
    assert unfinished_edition(db) == one
    set_edition_state(db, one.id, "finished")
    set_edition_state(db, two.id, "paused")
    found = unfinished_edition(db)
    assert found is not None and found.id == two.id and found.state == "paused"
    set_edition_state(db, two.id, "finished")
    set_edition_state(db, three.id, "finished")
    assert unfinished_edition(db) is None


def test_set_edition_state_refuses_unknown_states_and_editions(db: Engine) -> None:
    edition = edition_for(db, 1)
    with pytest.raises(ValueError):
        set_edition_state(db, edition.id, "lost")  # type: ignore[arg-type]
    with pytest.raises(PublisherError):
        set_edition_state(db, 999, "finished")


def test_list_editions_counts_rows_per_state(db: Engine) -> None:
    for n in range(4):
        add_subscriber(db, f"s{n}@example.com", status="active", now=NOW)
    first = edition_for(db, 1)
    edition_for(db, 2)
    store = OutboxStore(db, "w")
    store.claim(first.id, 1, NOW + WEEK)
    listed = list_editions(db)
    assert [counts for _, counts in listed] == [
        {"pending": 4, "sending": 0, "sent": 0, "failed": 0},
        {"pending": 3, "sending": 1, "sent": 0, "failed": 0},
    ]
    assert edition_counts(db, first.id) == listed[1][1]
    assert edition_counts(db, 999) == {"pending": 0, "sending": 0, "sent": 0, "failed": 0}


def test_edition_audiences_groups_rows_by_category_choice(db: Engine) -> None:
    add_subscriber(db, "all@example.com", status="active", now=NOW)
    add_subscriber(db, "all2@example.com", status="active", now=NOW)
    add_subscriber(db, "p@example.com", categories=["Policy"], status="active", now=NOW)
    add_subscriber(db, "pm@example.com", categories=["Markets", "Policy"], status="active", now=NOW)
    add_subscriber(db, "mp@example.com", categories=["Policy", "Markets"], status="active", now=NOW)
    edition = edition_for(db, 1)
    assert edition_audiences(db, edition.id) == [("", 2), ("Markets\x1fPolicy", 2), ("Policy", 1)]
    assert edition_audiences(db, 999) == []


def test_active_audiences_and_an_edition_for_some_audiences_only(db: Engine) -> None:
    add_subscriber(db, "all@example.com", status="active", now=NOW)
    add_subscriber(db, "p@example.com", categories=["Policy"], status="active", now=NOW)
    add_subscriber(db, "m@example.com", categories=["Markets"], status="active", now=NOW)
    add_subscriber(db, "m2@example.com", categories=["Markets"], now=NOW)  # pending: not counted
    assert active_audiences(db) == [("", 1), ("Markets", 1), ("Policy", 1)]
    cutoff = NOW + WEEK
    # No Markets post this week: Markets-only readers get no mail.
    edition = create_edition(
        db,
        cutoff_from=NOW,
        cutoff_to=cutoff,
        subject="s",
        post_ids=(),
        now=cutoff,
        audiences=["", "Policy"],
    )
    assert edition_audiences(db, edition.id) == [("", 1), ("Policy", 1)]


def test_concurrent_creators_make_one_edition(db: Engine) -> None:
    rows = ((n, {"email": f"u{n}@example.com"}) for n in range(300))
    import_subscribers(db, rows, default_status="active", now=NOW)
    start = threading.Barrier(4)
    made: list[Edition] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            start.wait()
            made.append(edition_for(db, 1))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({e.id for e in made}) == 1
    assert len(list_editions(db)) == 1
    assert OutboxStore(db, "w").counts(made[0].id)["pending"] == 300


def test_concurrent_creators_of_different_weeks_get_different_numbers(db: Engine) -> None:
    start = threading.Barrier(3)
    made: list[Edition] = []

    def create(week: int) -> None:
        start.wait()
        made.append(edition_for(db, week))

    threads = [threading.Thread(target=create, args=(week,)) for week in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(e.number for e in made) == [1, 2, 3]
