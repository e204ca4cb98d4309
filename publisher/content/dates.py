"""Post dates: Jekyll strings, ISO 8601, YAML dates or the file name → aware datetimes.

Jekyll writes ``date: 2025-09-21 02:15:11 +0000``, which YAML loads as a
string; ISO 8601 (``2025-09-21T11:15:11+09:00``) and YAML's own dates and
timestamps are accepted too. A date without an offset takes the site's
timezone, as Jekyll does with ``timezone`` in ``_config.yml`` (except an
unquoted YAML timestamp, which YAML itself reads as UTC: see
``publisher.content.post``). The offset the post was written with is kept, so
feeds show the date exactly as written.

>>> from zoneinfo import ZoneInfo
>>> parse_date("2025-09-21 02:15:11 +0000", ZoneInfo("Asia/Tokyo")).isoformat()
'2025-09-21T02:15:11+00:00'
>>> parse_date("2025-09-21 11:15", ZoneInfo("Asia/Tokyo")).isoformat()
'2025-09-21T11:15:00+09:00'
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

__all__ = ["date_from_filename", "parse_date"]

_DATE_RE = re.compile(
    r"""^\s*(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})
    (?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?
    \s*(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$""",
    re.X | re.I,
)
_FILENAME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-")


def parse_date(value: object, tz: tzinfo) -> datetime:
    """Turn a front matter ``date`` value into an aware datetime.

    Raises ``ValueError`` with a readable reason when the value is not a date.
    """
    if isinstance(value, datetime):
        return _localize(value, tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    if isinstance(value, str):
        return _parse_string(value, tz)
    raise ValueError(f"date must be a date or a string, not {type(value).__name__}")


def date_from_filename(name: str, tz: tzinfo) -> datetime | None:
    """The ``YYYY-MM-DD`` prefix of a Jekyll post file name, at midnight in ``tz``.

    >>> from datetime import timezone
    >>> date_from_filename("2025-09-21-hello.md", timezone.utc).isoformat()
    '2025-09-21T00:00:00+00:00'
    >>> date_from_filename("hello.md", timezone.utc) is None
    True
    """
    match = _FILENAME_RE.match(name)
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=tz)
    except ValueError:
        return None


def _parse_string(text: str, tz: tzinfo) -> datetime:
    match = _DATE_RE.match(text)
    if match is None:
        try:
            return _localize(datetime.fromisoformat(text.strip()), tz)
        except ValueError:
            raise ValueError(f"cannot read {text!r} as a date") from None
    fraction = (match["f"] or "0")[:6].ljust(6, "0")
    try:
        parsed = datetime(
            int(match["y"]),
            int(match["m"]),
            int(match["d"]),
            int(match["H"] or 0),
            int(match["M"] or 0),
            int(match["S"] or 0),
            int(fraction),
        )
    except ValueError as exc:
        raise ValueError(f"cannot read {text!r} as a date: {exc}") from None
    offset = match["tz"]
    if offset is None:
        return parsed.replace(tzinfo=tz)
    return parsed.replace(tzinfo=_offset(offset))


def _offset(text: str) -> tzinfo:
    if text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"bad UTC offset {text!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _localize(value: datetime, tz: tzinfo) -> datetime:
    return value.replace(tzinfo=tz) if value.tzinfo is None else value
