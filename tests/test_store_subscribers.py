"""publisher.store.subscribers and .importer, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine

from publisher.errors import SubscriberError
from publisher.models import Outcome
from publisher.store import (
    OutboxStore,
    add_subscriber,
    confirm_subscriber,
    count_subscribers,
    create_edition,
    edition_audiences,
    find_subscriber,
    get_subscriber,
    import_subscribers,
    iter_subscribers,
    record_bounce,
    remove_subscriber,
    set_categories,
    unsubscribe,
)

NOW = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def make_edition(db: Engine, day: int = 1) -> int:
    cutoff = NOW + timedelta(days=day)
    edition = create_edition(
        db,
        cutoff_from=cutoff - timedelta(days=7),
        cutoff_to=cutoff,
        subject="s",
        post_ids=(),
        now=cutoff,
    )
    return edition.id


# --- adding ------------------------------------------------------------------------


def test_add_normalises_the_address_and_stores_aware_utc_times(db: Engine) -> None:
    tokyo = timezone(timedelta(hours=9))
    sub = add_subscriber(
        db,
        "  Ann@EXAMPLE.com ",
        name=" Ann ",
        categories=["Policy", " ", "Policy", "市場"],
        now=NOW.astimezone(tokyo),
    )
    assert sub.email == "Ann@example.com"
    assert sub.name == "Ann"
    assert sub.categories == ("Policy", "市場")
    assert sub.status == "pending"
    assert sub.created_at == NOW and sub.created_at.tzinfo == UTC
    assert sub.confirmed_at is None
    assert get_subscriber(db, sub.id) == sub
    assert find_subscriber(db, "ann@example.COM") == sub
    assert find_subscriber(db, "bob@example.com") is None
    assert get_subscriber(db, sub.id + 100) is None


@pytest.mark.parametrize(
    "email",
    [
        "",
        "   ",
        "not-an-address",
        "ann@",
        "@example.com",
        "ann@@example.com",
        "ann example@example.com",
    ],
)
def test_an_invalid_address_is_refused(db: Engine, email: str) -> None:
    with pytest.raises(SubscriberError) as caught:
        add_subscriber(db, email, now=NOW)
    assert caught.value.reason
    assert count_subscribers(db)["pending"] == 0


def test_an_address_is_unique_ignoring_case(db: Engine) -> None:
    add_subscriber(db, "ann@example.com", status="active", now=NOW)
    with pytest.raises(SubscriberError) as caught:
        add_subscriber(db, "ANN@Example.com", now=NOW)
    assert caught.value.reason == "already subscribed"
    assert sum(count_subscribers(db).values()) == 1


def test_an_active_subscriber_is_confirmed_at_once(db: Engine) -> None:
    sub = add_subscriber(db, "ann@example.com", status="active", now=NOW)
    assert sub.confirmed_at == NOW


def test_adding_again_reopens_a_pending_or_unsubscribed_address(db: Engine) -> None:
    first = add_subscriber(db, "ann@example.com", name="Ann", now=NOW)
    again = add_subscriber(db, "Ann@example.com", categories=["Policy"], now=LATER)
    assert again.id == first.id and again.status == "pending"
    assert again.name == "Ann" and again.categories == ("Policy",)

    unsubscribe(db, first.id, LATER)
    back = add_subscriber(db, "ann@example.com", status="active", now=LATER)
    assert back.id == first.id
    assert back.status == "active"
    assert back.unsubscribed_at is None and back.confirmed_at == LATER


def test_a_bounced_address_is_not_added_again(db: Engine) -> None:
    sub = add_subscriber(db, "ann@example.com", status="active", now=NOW)
    record_bounce(db, sub.id, 1, NOW)
    with pytest.raises(SubscriberError):
        add_subscriber(db, "ann@example.com", now=NOW)


def test_an_unknown_status_is_refused(db: Engine) -> None:
    with pytest.raises(SubscriberError):
        add_subscriber(db, "ann@example.com", status="vip", now=NOW)  # type: ignore[arg-type]


# --- status transitions ------------------------------------------------------------


def test_confirm_makes_pending_active_and_is_idempotent(db: Engine) -> None:
    sub = add_subscriber(db, "ann@example.com", now=NOW)
    confirmed = confirm_subscriber(db, sub.id, LATER)
    assert confirmed.status == "active" and confirmed.confirmed_at == LATER
    assert confirm_subscriber(db, sub.id, LATER + timedelta(hours=1)) == confirmed


def test_confirming_after_unsubscribing_does_not_resubscribe(db: Engine) -> None:
    sub = add_subscriber(db, "ann@example.com", now=NOW)
    confirm_subscriber(db, sub.id, NOW)
    gone = unsubscribe(db, sub.id, LATER)
    assert gone.status == "unsubscribed" and gone.unsubscribed_at == LATER
    assert confirm_subscriber(db, sub.id, LATER + timedelta(hours=1)) == gone


def test_confirming_a_pending_subscriber_who_unsubscribed_does_nothing(db: Engine) -> None:
    sub = add_subscriber(db, "ann@example.com", now=NOW)
    unsubscribe(db, sub.id, NOW)
    assert confirm_subscriber(db, sub.id, LATER).status == "unsubscribed"


def test_unsubscribe_is_idempotent(db: Engine) -> None:
    sub = add_subscriber(db, "ann@example.com", status="active", now=NOW)
    first = unsubscribe(db, sub.id, NOW)
    assert unsubscribe(db, sub.id, LATER) == first


@pytest.mark.parametrize("action", [confirm_subscriber, unsubscribe])
def test_an_unknown_id_raises(db: Engine, action: object) -> None:
    with pytest.raises(SubscriberError):
        action(db, 12345, NOW)  # type: ignore[operator]


def test_unsubscribe_fails_every_unsent_outbox_row(db: Engine) -> None:
    ann = add_subscriber(db, "ann@example.com", status="active", now=NOW)
    bob = add_subscriber(db, "bob@example.com", status="active", now=NOW)
    edition_id = make_edition(db)
    store = OutboxStore(db, "worker-a")
    claimed = store.claim(edition_id, 1, NOW)  # ann's row is being sent
    assert [item.subscriber_id for item in claimed] == [ann.id]

    unsubscribe(db, ann.id, NOW)
    unsubscribe(db, bob.id, NOW)
    assert store.counts(edition_id) == {"pending": 0, "sending": 0, "sent": 0, "failed": 2}
    assert store.claim(edition_id, 10, LATER) == []

    # The worker sending ann's message no longer holds it: its record changes nothing.
    store.record(
        [
            Outcome(
                item_id=claimed[0].id, subscriber_id=ann.id, state="sent", attempts=1, sent_at=NOW
            )
        ]
    )
    assert store.counts(edition_id)["failed"] == 2


def test_unsubscribe_keeps_rows_already_sent(db: Engine) -> None:
    ann = add_subscriber(db, "ann@example.com", status="active", now=NOW)
    edition_id = make_edition(db)
    store = OutboxStore(db, "worker-a")
    [item] = store.claim(edition_id, 10, NOW)
    store.record(
        [Outcome(item_id=item.id, subscriber_id=ann.id, state="sent", attempts=1, sent_at=NOW)]
    )
    unsubscribe(db, ann.id, LATER)
    assert store.counts(edition_id)["sent"] == 1


def test_remove_deletes_the_subscriber_and_their_outbox_rows(db: Engine) -> None:
    add_subscriber(db, "ann@example.com", status="active", now=NOW)
    add_subscriber(db, "bob@example.com", status="active", now=NOW)
    edition_id = make_edition(db)
    assert remove_subscriber(db, "ANN@example.com") is True
    assert remove_subscriber(db, "ann@example.com") is False
    assert remove_subscriber(db, "not an address") is False
    assert find_subscriber(db, "ann@example.com") is None
    assert OutboxStore(db, "w").counts(edition_id)["pending"] == 1


def test_removed_ids_are_never_reused(db: Engine) -> None:
    # Links carry the subscriber id; a new subscriber must not inherit an old link.
    ann = add_subscriber(db, "ann@example.com", now=NOW)
    remove_subscriber(db, "ann@example.com")
    bob = add_subscriber(db, "bob@example.com", now=NOW)
    assert bob.id > ann.id


def test_set_categories_changes_the_audience(db: Engine) -> None:
    ann = add_subscriber(db, "ann@example.com", status="active", categories=["a"], now=NOW)
    add_subscriber(db, "bob@example.com", status="active", now=NOW)
    updated = set_categories(db, ann.id, ["b", "a", "b"], LATER)
    assert updated.categories == ("b", "a")
    edition_id = make_edition(db)
    assert edition_audiences(db, edition_id) == [("", 1), ("a\x1fb", 1)]
    with pytest.raises(SubscriberError):
        set_categories(db, 999, [], LATER)


# --- listing, counting, bounces ----------------------------------------------------


def test_iter_subscribers_streams_every_page_in_id_order(db: Engine) -> None:
    rows = (
        (n, {"email": f"user{n}@example.com", "status": "active" if n % 3 else "pending"})
        for n in range(2500)
    )
    import_subscribers(db, rows, default_status="active", now=NOW)
    everyone = iter_subscribers(db)
    assert isinstance(everyone, Iterator)
    ids = [s.id for s in everyone]
    assert len(ids) == 2500 and ids == sorted(ids)
    pending = list(iter_subscribers(db, "pending"))
    assert len(pending) == 834 and all(s.status == "pending" for s in pending)
    assert list(iter_subscribers(db, "bounced")) == []


def test_count_subscribers_names_every_status(db: Engine) -> None:
    assert count_subscribers(db) == {"pending": 0, "active": 0, "unsubscribed": 0, "bounced": 0}
    add_subscriber(db, "a@example.com", now=NOW)
    add_subscriber(db, "b@example.com", status="active", now=NOW)
    c = add_subscriber(db, "c@example.com", status="active", now=NOW)
    unsubscribe(db, c.id, NOW)
    assert count_subscribers(db) == {"pending": 1, "active": 1, "unsubscribed": 1, "bounced": 0}


def test_record_bounce_marks_bounced_at_the_limit(db: Engine) -> None:
    sub = add_subscriber(db, "ann@example.com", status="active", now=NOW)
    edition_id = make_edition(db)
    once = record_bounce(db, sub.id, 2, NOW)
    assert once is not None and (once.status, once.bounces) == ("active", 1)
    twice = record_bounce(db, sub.id, 2, LATER)
    assert twice is not None and (twice.status, twice.bounces) == ("bounced", 2)
    # Nothing more goes to a bounced address.
    assert OutboxStore(db, "w").counts(edition_id)["failed"] == 1
    assert record_bounce(db, 999, 2, NOW) is None


def test_a_bounce_does_not_change_an_unsubscribed_status(db: Engine) -> None:
    sub = add_subscriber(db, "ann@example.com", status="active", now=NOW)
    unsubscribe(db, sub.id, NOW)
    after = record_bounce(db, sub.id, 1, NOW)
    assert after is not None and after.status == "unsubscribed" and after.bounces == 1


# --- import ------------------------------------------------------------------------

BAD_LINES = {
    101: ("not-an-address", ""),
    2002: ("", ""),
    3003: ("someone@example.com", "gold"),
    4999: ("two@@example.com", "active"),
}


def csv_rows(count: int, *, name: str = "") -> Iterator[tuple[int, dict[str, str]]]:
    """Like csv.DictReader over a file with a header line: data starts on line 2."""
    for line in range(2, count + 2):
        if line in BAD_LINES:
            email, status = BAD_LINES[line]
            yield line, {"email": email, "name": "", "categories": "", "status": status}
            continue
        cats = "Policy; Markets" if line % 2 else "市場,Policy"
        yield (
            line,
            {"email": f"User{line}@Example.com", "name": name, "categories": cats, "status": ""},
        )


def test_import_5000_rows_reports_bad_lines_and_updates_on_reimport(db: Engine) -> None:
    report = import_subscribers(db, csv_rows(5000), default_status="active", now=NOW)
    assert report.added == 4996 and report.updated == 0
    assert report.skipped == 4
    assert [line for line, _ in report.problems] == sorted(BAD_LINES)
    assert "gold" in dict(report.problems)[3003]
    assert count_subscribers(db)["active"] == 4996

    ann = find_subscriber(db, "user3@example.com")
    assert ann is not None
    assert ann.email == "User3@example.com"
    assert ann.categories == ("Policy", "Markets") and ann.confirmed_at == NOW
    unsubscribe(db, ann.id, NOW)

    again = import_subscribers(
        db, csv_rows(5000, name="Renamed"), default_status="active", now=LATER
    )
    assert (again.added, again.updated, again.skipped) == (0, 4996, 4)
    renamed = find_subscriber(db, "user4@example.com")
    assert renamed is not None and renamed.name == "Renamed" and renamed.created_at == NOW
    # A file without a status never re-subscribes someone who left.
    still = get_subscriber(db, ann.id)
    assert still is not None and still.status == "unsubscribed"


def test_import_blank_cells_keep_what_is_stored(db: Engine) -> None:
    add_subscriber(
        db, "ann@example.com", name="Ann", categories=["Policy"], status="active", now=NOW
    )
    report = import_subscribers(
        db, [(2, {"email": "ANN@example.com"})], default_status="pending", now=LATER
    )
    assert (report.added, report.updated) == (0, 1)
    ann = find_subscriber(db, "ann@example.com")
    assert ann is not None
    assert (ann.name, ann.categories, ann.status) == ("Ann", ("Policy",), "active")


def test_import_an_explicit_status_is_applied_and_fails_unsent_mail(db: Engine) -> None:
    add_subscriber(db, "ann@example.com", status="active", now=NOW)
    edition_id = make_edition(db)
    rows = [
        (2, {"email": "ann@example.com", "status": "Unsubscribed"}),
        (3, {"email": "new@example.com", "status": "bounced"}),
    ]
    report = import_subscribers(db, rows, default_status="active", now=LATER)
    assert (report.added, report.updated, report.problems) == (1, 1, ())
    ann = find_subscriber(db, "ann@example.com")
    assert ann is not None and ann.status == "unsubscribed" and ann.unsubscribed_at == LATER
    assert OutboxStore(db, "w").counts(edition_id) == {
        "pending": 0,
        "sending": 0,
        "sent": 0,
        "failed": 1,
    }


def test_import_the_same_address_twice_in_one_file(db: Engine) -> None:
    rows = [
        (2, {"email": "ann@example.com", "name": "Ann", "categories": "a"}),
        (3, {"email": "Ann@Example.com", "name": "", "categories": "b;c"}),
    ]
    report = import_subscribers(db, rows, default_status="pending", now=NOW)
    assert (report.added, report.updated) == (1, 1)
    ann = find_subscriber(db, "ann@example.com")
    assert ann is not None and (ann.name, ann.categories) == ("Ann", ("b", "c"))


def test_import_refuses_an_unknown_default_status(db: Engine) -> None:
    with pytest.raises(SubscriberError):
        import_subscribers(db, [], default_status="vip", now=NOW)  # type: ignore[arg-type]
