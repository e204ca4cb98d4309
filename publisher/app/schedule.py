"""Pure decisions for ``publisher run``: when the digest fires, when to wake up next.

Nothing here reads a clock, a file or the database: ``now`` is passed in, so
the tests can ask "what is the next Monday 09:00 in Berlin after this
instant?" without waiting for it.

>>> trigger = digest_trigger("mon 09:00", ZoneInfo("Asia/Tokyo"))                # doctest: +SKIP
>>> next_fire_times(trigger, datetime(2025, 11, 20, tzinfo=UTC), 1)[0].isoformat()  # doctest: +SKIP
'2025-11-24T09:00:00+09:00'
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

from publisher.errors import ConfigError

__all__ = [
    "digest_trigger",
    "due_wakeup",
    "next_fire_times",
    "resume_run_time",
    "same_trigger",
]

# Cron's numbering: 0 (and 7) is Sunday. APScheduler 3 numbers Monday 0, so
# numbers are never handed to it: every weekday is passed by name.
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_SIMPLE = re.compile(r"(?:(?P<days>[a-z0-9,*/-]+|daily)\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})")
_KEY = "digest.schedule"


def digest_trigger(spec: str, tz: tzinfo) -> CronTrigger:
    """The trigger for ``[digest] schedule`` in the site's timezone.

    Either weekdays and a time (``"mon 09:00"``, ``"mon,thu 18:30"``,
    ``"mon-fri 07:00"``, ``"daily 07:00"``) or a five-field cron line
    (``"0 9 * * 1"``: minute hour day-of-month month day-of-week, Sunday 0 or 7).
    Raises :class:`ConfigError` naming ``digest.schedule`` for anything else.
    """
    text = " ".join(spec.lower().split())
    try:
        simple = _SIMPLE.fullmatch(text)
        if simple:
            days = simple["days"] or "daily"
            hour, minute = int(simple["hour"]), int(simple["minute"])
            if hour > 23 or minute > 59:
                raise ValueError(f"no such time of day: {simple['hour']}:{simple['minute']}")
            return CronTrigger(
                day_of_week="*" if days == "daily" else _weekdays(days),
                hour=hour,
                minute=minute,
                timezone=tz,
            )
        fields = text.split(" ")
        if len(fields) != 5:
            raise ValueError("expected a weekday and a time such as 'mon 09:00', or a cron line")
        minute_f, hour_f, day_f, month_f, dow_f = fields
        return CronTrigger(
            minute=minute_f,
            hour=hour_f,
            day=day_f,
            month=month_f,
            day_of_week=_weekdays(dow_f),
            timezone=tz,
        )
    except ValueError as exc:
        raise ConfigError(_KEY, f"{spec!r}: {exc}") from exc


def _weekdays(field: str) -> str:
    """A cron day-of-week field as APScheduler weekday names: ``"1-5"`` → ``"mon,tue,…,fri"``."""
    if field == "*":
        return "*"
    chosen: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in {part!r}")
        if span == "*":
            low, high = 0, 6
        else:
            first, _, last = span.partition("-")
            low = _day(first)
            high = _day(last) if last else (6 if step_text else low)
        days = list(range(low, high + 1)) if low <= high else [*range(low, 7), *range(high + 1)]
        chosen.update(days[::step])
    return ",".join(_DAYS[d] for d in sorted(chosen, key=lambda d: (d - 1) % 7))


def _day(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token) % 7
    for number, name in enumerate(_DAYS):
        if token[:3] == name and len(token) >= 3:
            return number
    raise ValueError(f"unknown weekday {token!r}")


def next_fire_times(trigger: CronTrigger, now: datetime, count: int) -> list[datetime]:
    """The next ``count`` times ``trigger`` fires after ``now``, in the trigger's timezone."""
    times: list[datetime] = []
    previous: datetime | None = None
    moment = now
    while len(times) < count:
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        times.append(fire)
        previous, moment = fire, fire + timedelta(microseconds=1)
    return times


def same_trigger(stored: object, trigger: CronTrigger) -> bool:
    """Whether a stored job's trigger is ``trigger`` (same fields, same timezone)."""
    return repr(stored) == repr(trigger)


def resume_run_time(
    stored_trigger: object, stored_next: datetime | None, trigger: CronTrigger, now: datetime
) -> datetime | None:
    """When the digest job should next run after a (re)start of ``publisher run``.

    The stored next run time is kept when the schedule is unchanged, even if it
    has passed: that is a run missed while the machine was down, and the
    scheduler sends it once if it is within the misfire grace time (skipping it
    otherwise; the next edition then covers both weeks). A changed schedule
    starts afresh from ``now``.
    """
    if stored_next is not None and same_trigger(stored_trigger, trigger):
        return stored_next
    return trigger.get_next_fire_time(None, now)  # type: ignore[no-any-return]


def due_wakeup(next_due: datetime | None, now: datetime) -> datetime | None:
    """When to rebuild for a future-dated post: at its date (at once if that has passed)."""
    if next_due is None:
        return None
    return max(next_due, now)
