from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from publisher.content.dates import date_from_filename, parse_date

TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("value", "tz", "expected"),
    [
        # Jekyll's own form: YAML loads it as a string; the written offset is kept.
        ("2025-09-21 02:15:11 +0000", TOKYO, "2025-09-21T02:15:11+00:00"),
        ("2025-09-21 11:15:11 +0900", TOKYO, "2025-09-21T11:15:11+09:00"),
        ("2025-09-21 11:15:11 +09:00", TOKYO, "2025-09-21T11:15:11+09:00"),
        ("2025-09-21 02:15:11 -0500", TOKYO, "2025-09-21T02:15:11-05:00"),
        ("2025-9-1 2:15:11 +0000", TOKYO, "2025-09-01T02:15:11+00:00"),
        # ISO 8601
        ("2025-09-21T11:15:11+09:00", TOKYO, "2025-09-21T11:15:11+09:00"),
        ("2025-09-21T02:15:11Z", TOKYO, "2025-09-21T02:15:11+00:00"),
        ("2025-09-21T02:15:11.250Z", TOKYO, "2025-09-21T02:15:11.250000+00:00"),
        # naive: the site's timezone, DST-aware
        ("2025-09-21 11:15:11", TOKYO, "2025-09-21T11:15:11+09:00"),
        ("2025-09-21 11:15", TOKYO, "2025-09-21T11:15:00+09:00"),
        ("2025-09-21", TOKYO, "2025-09-21T00:00:00+09:00"),
        ("2025-07-01 12:00", BERLIN, "2025-07-01T12:00:00+02:00"),
        ("2025-12-01 12:00", BERLIN, "2025-12-01T12:00:00+01:00"),
        # YAML's own types
        (date(2025, 9, 21), TOKYO, "2025-09-21T00:00:00+09:00"),
        (datetime(2025, 9, 21, 11, 15), TOKYO, "2025-09-21T11:15:00+09:00"),
        (
            datetime(2025, 9, 21, 2, 15, tzinfo=timezone(timedelta(hours=-3))),
            TOKYO,
            "2025-09-21T02:15:00-03:00",
        ),
    ],
)
def test_parse_date(value: object, tz: ZoneInfo, expected: str) -> None:
    assert parse_date(value, tz).isoformat() == expected


@pytest.mark.parametrize(
    "value",
    ["next tuesday", "2025-13-01", "2025-02-30 10:00", "21/09/2025", "", "2025-09-21 25:00", 42],
)
def test_parse_date_rejects(value: object) -> None:
    with pytest.raises(ValueError, match=r"date|cannot read"):
        parse_date(value, TOKYO)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2025-09-21-hello.md", "2025-09-21T00:00:00+09:00"),
        ("2025-02-30-bad.md", None),
        ("hello.md", None),
        ("2025-09-21.md", None),
    ],
)
def test_date_from_filename(name: str, expected: str | None) -> None:
    got = date_from_filename(name, TOKYO)
    assert (got.isoformat() if got else None) == expected
