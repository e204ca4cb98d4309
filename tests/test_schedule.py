"""publisher.app.schedule: the digest trigger and the wake-up decisions, with an injected now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from publisher.app.schedule import (
    digest_trigger,
    due_wakeup,
    next_fire_times,
    resume_run_time,
)
from publisher.errors import ConfigError

TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")


def test_monday_nine_in_tokyo() -> None:
    trigger = digest_trigger("mon 09:00", TOKYO)
    # Thursday 2025-11-20 00:00 UTC is 09:00 in Tokyo: the next Monday is the 24th.
    fires = next_fire_times(trigger, datetime(2025, 11, 20, tzinfo=UTC), 2)
    assert [f.isoformat() for f in fires] == [
        "2025-11-24T09:00:00+09:00",
        "2025-12-01T09:00:00+09:00",
    ]
    assert fires[0].astimezone(UTC) == datetime(2025, 11, 24, 0, 0, tzinfo=UTC)


def test_monday_nine_at_the_exact_moment_is_the_next_week() -> None:
    trigger = digest_trigger("mon 09:00", TOKYO)
    monday = datetime(2025, 11, 24, 9, 0, tzinfo=TOKYO)
    assert next_fire_times(trigger, monday + timedelta(seconds=1), 1)[0].day == 1


@pytest.mark.parametrize(
    ("after", "expected_utc"),
    [
        # Summer time starts Sunday 2025-03-30: 09:00 CET is 08:00 UTC, 09:00 CEST 07:00 UTC.
        (
            datetime(2025, 3, 25, tzinfo=UTC),
            ["2025-03-31T07:00:00+00:00", "2025-04-07T07:00:00+00:00"],
        ),
        (
            datetime(2025, 3, 20, tzinfo=UTC),
            ["2025-03-24T08:00:00+00:00", "2025-03-31T07:00:00+00:00"],
        ),
        # Summer time ends Sunday 2025-10-26.
        (
            datetime(2025, 10, 21, tzinfo=UTC),
            ["2025-10-27T08:00:00+00:00", "2025-11-03T08:00:00+00:00"],
        ),
        (
            datetime(2025, 10, 14, tzinfo=UTC),
            ["2025-10-20T07:00:00+00:00", "2025-10-27T08:00:00+00:00"],
        ),
    ],
)
def test_monday_nine_in_berlin_across_the_dst_change(
    after: datetime, expected_utc: list[str]
) -> None:
    fires = next_fire_times(digest_trigger("mon 09:00", BERLIN), after, 2)
    assert [f.astimezone(UTC).isoformat() for f in fires] == expected_utc
    assert all(f.astimezone(BERLIN).hour == 9 for f in fires)


@pytest.mark.parametrize(
    ("spec", "weekdays"),
    [
        ("mon 09:00", {0}),
        ("Mon  9:00", {0}),
        ("mon,thu 18:30", {0, 3}),
        ("mon-fri 07:00", {0, 1, 2, 3, 4}),
        ("fri-mon 07:00", {4, 5, 6, 0}),
        ("daily 07:00", set(range(7))),
        ("07:00", set(range(7))),
        # Cron lines: Sunday is 0 or 7 (APScheduler's own numbers start at Monday).
        ("0 9 * * 1", {0}),
        ("0 9 * * 0", {6}),
        ("0 9 * * 7", {6}),
        ("30 8 * * 1-5", {0, 1, 2, 3, 4}),
        ("0 9 * * */2", {6, 1, 3, 5}),
        ("0 9 * * sun", {6}),
    ],
)
def test_schedule_forms(spec: str, weekdays: set[int]) -> None:
    fires = next_fire_times(digest_trigger(spec, TOKYO), datetime(2025, 11, 20, tzinfo=UTC), 14)
    assert {f.weekday() for f in fires} == weekdays


@pytest.mark.parametrize(
    "spec", ["", "someday 09:00", "mon 25:00", "mon 09:60", "0 9 * *", "0 9 * * 8", "0 9 * * 1/0"]
)
def test_bad_schedules_name_the_setting(spec: str) -> None:
    with pytest.raises(ConfigError) as info:
        digest_trigger(spec, TOKYO)
    assert info.value.key == "digest.schedule"


def test_a_missed_run_is_kept_when_the_schedule_is_unchanged() -> None:
    trigger = digest_trigger("mon 09:00", TOKYO)
    missed = datetime(2025, 11, 24, 9, 0, tzinfo=TOKYO)
    now = missed + timedelta(hours=3)
    assert resume_run_time(digest_trigger("mon 09:00", TOKYO), missed, trigger, now) == missed


def test_a_changed_schedule_starts_afresh() -> None:
    old = digest_trigger("mon 09:00", TOKYO)
    new = digest_trigger("tue 09:00", TOKYO)
    missed = datetime(2025, 11, 24, 9, 0, tzinfo=TOKYO)
    now = missed + timedelta(hours=3)
    assert resume_run_time(old, missed, new, now) == datetime(2025, 11, 25, 9, 0, tzinfo=TOKYO)
    assert resume_run_time(None, None, new, now) == datetime(2025, 11, 25, 9, 0, tzinfo=TOKYO)
    other_zone = digest_trigger("mon 09:00", BERLIN)
    assert resume_run_time(other_zone, missed, old, now) == datetime(2025, 12, 1, 9, tzinfo=TOKYO)


def test_due_wakeup() -> None:
    now = datetime(2025, 11, 20, tzinfo=UTC)
    assert due_wakeup(None, now) is None
    assert due_wakeup(now + timedelta(hours=1), now) == now + timedelta(hours=1)
    assert due_wakeup(now - timedelta(hours=1), now) == now
