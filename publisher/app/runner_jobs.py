"""Use cases behind ``publisher run`` and ``publisher schedule``.

The scheduler (:mod:`publisher.scheduler`) calls these and nothing else: a
feeds refresh, the scheduled digest, the delivery retries, the runner's lock
and job store, and the overview of what runs next. Each job returns a
:class:`RunOutcome` whose :meth:`~RunOutcome.line` is the one log line of that
run.

>>> outcome_line(refresh_feeds(ctx, Path("output")))      # doctest: +SKIP
'feeds: wrote 2, removed 0; next post due 2025-11-24T09:00:00+09:00 (0.08 s)'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from publisher.app import signup
from publisher.app.build import BuildRequest, build_feeds
from publisher.app.context import Context, read_site
from publisher.app.schedule import digest_trigger, next_fire_times
from publisher.app.sending import SendReport, resume_digest, send_digest
from publisher.errors import PublisherError, SendPaused
from publisher.feeds import feed_url
from publisher.feeds.websub import notify_hub
from publisher.store.processes import process_id

if TYPE_CHECKING:
    import httpx


__all__ = [
    "HeldLock",
    "PlannedRun",
    "RunOutcome",
    "hold_runner_lock",
    "purge_expired_signups",
    "refresh_feeds",
    "retry_deliveries",
    "runner_job_store",
    "schedule_overview",
    "send_scheduled_digest",
    "stand_by_for_runner_lock",
]

STANDBY_POLL_SECONDS = 3.0
"""A standby tries for the runner lock at least this often."""


@dataclass(frozen=True)
class RunOutcome:
    """What one job run did, how long it took, what went wrong, and when to come back.

    Data only: ``publisher.scheduler.outcome_line`` says it in one log line.
    """

    job: str
    """``feeds``, ``digest``, ``retry`` (``publisher run``) or ``deliver`` (a worker)."""
    seconds: float
    state: str
    """``built`` or ``failed`` (feeds); ``paused``, ``stopped``, or how the send ended
    (:data:`~publisher.app.sending.SendOutcome`)."""
    problems: tuple[str, ...] = ()
    next_due: datetime | None = None
    """Feeds: when the next future-dated post falls due."""
    retry_at: datetime | None = None
    """Digest: when the next delivery waiting for its backoff may be tried."""
    changed: tuple[str, ...] = ()
    """Feeds: the paths (under the output folder) of the feeds that were rewritten."""
    delivered: int = 0
    """Digest: messages this run sent or failed for good."""
    written: int = 0
    """Feeds: how many files were rewritten."""
    removed: int = 0
    """Feeds: how many were removed."""
    edition: int = 0
    """Digest: the edition's number (0: none)."""
    counts: dict[str, int] = field(default_factory=dict)
    """Digest: the edition's outbox rows by state."""


class HeldLock(Protocol):
    """The one-runner lock as the runner uses it (``publisher.store.lock.RunnerLock``)."""

    taken_from: str | None
    """The runner it was taken over from, if any."""

    def renew(self, now: datetime | None = None) -> bool: ...

    def release(self) -> None: ...


@dataclass(frozen=True)
class PlannedRun:
    """One job of ``publisher run`` and when it runs next (None: not planned)."""

    job: str
    next_at: datetime | None
    detail: str


def refresh_feeds(
    ctx: Context, output_dir: Path, hub_transport: httpx.BaseTransport | None = None
) -> RunOutcome:
    """Rebuild the feeds as of ``ctx.as_of()``: posts added, changed, removed or fallen due.

    ``hub_transport``: how to reach the WebSub hub (httpx's; none: the network).
    """
    started = time.monotonic()
    try:
        report = build_feeds(
            BuildRequest(
                site_dir=ctx.site_dir,
                output_dir=output_dir,
                config_file=ctx.config_file,
                now=ctx.as_of(),
                settings=ctx.config,
            )
        )
    except PublisherError as exc:
        return RunOutcome("feeds", time.monotonic() - started, "failed", (str(exc),))
    problems = tuple(str(p) for p in report.problems)
    hub = ctx.config.feeds.websub_hub
    topics = [feed_url(ctx.config, path) for path in report.written if not path.endswith(".xsl")]
    if hub and topics:
        reasons = notify_hub(hub, topics, transport=hub_transport)
        problems += tuple(f"WebSub: {reason}" for reason in reasons)
    return RunOutcome(
        "feeds",
        time.monotonic() - started,
        "built",
        problems,
        next_due=report.next_due,
        changed=report.written,
        written=len(report.written),
        removed=len(report.removed),
    )


def send_scheduled_digest(
    ctx: Context, should_stop: Callable[[], bool] | None = None
) -> RunOutcome:
    """The weekly send: create the next edition (or resume one) and deliver it."""
    return _mail(ctx, "digest", lambda: send_digest(ctx, should_stop=should_stop))


def retry_deliveries(ctx: Context, should_stop: Callable[[], bool] | None = None) -> RunOutcome:
    """Deliver the messages of an unfinished edition whose backoff has passed."""
    return _mail(ctx, "retry", lambda: resume_digest(ctx, should_stop=should_stop))


def _mail(ctx: Context, job: str, send: Callable[[], SendReport]) -> RunOutcome:
    started = time.monotonic()
    try:
        report = send()
    except SendPaused as exc:  # the relay keeps failing: give it time, then resume
        later = ctx.clock() + timedelta(minutes=ctx.config.run.paused_retry_minutes)
        return RunOutcome(job, time.monotonic() - started, "paused", (str(exc),), retry_at=later)
    except PublisherError as exc:
        return RunOutcome(job, time.monotonic() - started, "stopped", (str(exc),))
    failed = tuple(f"{item.email}: {item.last_reply}" for item in report.failures)
    done = report.tally.sent + report.tally.failed if report.tally else 0
    return RunOutcome(
        job,
        time.monotonic() - started,
        report.outcome,
        failed,
        retry_at=report.retry_at,
        delivered=done,
        edition=report.edition.number if report.edition else 0,
        counts=report.counts,
    )


def purge_expired_signups(ctx: Context) -> int:
    """Delete the pending sign-ups whose confirm link has expired (hourly); how many.

    The same as every sign-up does (:func:`publisher.app.signup.purge_expired`), for a
    site where nobody signs up for a while.
    """
    return signup.purge_expired(ctx)


def hold_runner_lock(ctx: Context, owner: str | None = None) -> HeldLock:
    """Take the one-runner-per-database lock (raises :class:`~publisher.errors.RunnerBusy`).

    Renew it every third of ``[run] lock_seconds``; release it on the way out.
    Its expiry follows the real clock, never ``ctx.now``.
    """
    from publisher.store.lock import acquire_runner_lock

    ttl = timedelta(seconds=ctx.config.run.lock_seconds)
    return acquire_runner_lock(ctx.engine, owner or process_id(), ttl)


def stand_by_for_runner_lock(
    ctx: Context,
    stop: threading.Event,
    on_wait: Callable[[PublisherError], object],
    owner: str | None = None,
) -> HeldLock | None:
    """Wait for the one-runner lock while another runner holds it; None once ``stop`` is set.

    Tries again every third of ``[run] lock_seconds`` (at most every
    :data:`STANDBY_POLL_SECONDS`); ``on_wait`` is told why it waits whenever
    that changes: :class:`~publisher.errors.RunnerBusy` naming each new holder,
    or a :class:`~publisher.errors.StoreError` while the database does not answer.
    The lock returned says whom it was taken over from (``taken_from``).
    """
    from publisher.store.lock import wait_for_runner_lock

    ttl = timedelta(seconds=ctx.config.run.lock_seconds)
    return wait_for_runner_lock(
        ctx.engine,
        owner or process_id(),
        ttl,
        stop,
        poll=min(ttl.total_seconds() / 3, STANDBY_POLL_SECONDS),
        on_wait=on_wait,
    )


def runner_job_store(ctx: Context) -> Any:
    """APScheduler's job store in the project's database."""
    from publisher.store.jobs import job_store

    return job_store(ctx.engine)


def schedule_overview(ctx: Context) -> list[PlannedRun]:
    """When each job of ``publisher run`` runs next, as of ``ctx.as_of()``."""
    from publisher.store.jobs import stored_run_times
    from publisher.store.lock import runner_lock_holder

    now, settings = ctx.as_of(), ctx.config
    tz = settings.site.tz
    stored = stored_run_times(ctx.engine)
    trigger = digest_trigger(settings.digest.schedule, tz)
    digest_at = stored.get("digest") or next(iter(next_fire_times(trigger, now, 1)), None)
    detail = f"{settings.digest.schedule!r} in {settings.site.timezone}"
    if digest_at is not None and digest_at < now:
        grace = timedelta(hours=settings.digest.misfire_grace_hours)
        late = "sent when `publisher run` starts" if now - digest_at <= grace else "skipped"
        detail += f"; missed, {late}"
    read = read_site(ctx, now)
    due = read.scheduled[0].date if read.scheduled else None
    every = f"every {settings.run.rebuild_minutes:g} min and on every post change"
    holder = runner_lock_holder(ctx.engine, now)
    bounces = settings.bounces
    mailbox = (
        f"every {bounces.poll_minutes:g} min: {bounces.folder} at {bounces.host}"
        if bounces.host
        else "no bounce mailbox ([bounces] host)"
    )
    return [
        PlannedRun("digest", _local(digest_at, tz), detail),
        PlannedRun("retry", _local(stored.get("retry"), tz), "deliveries waiting for a retry"),
        PlannedRun("feeds", _local(due, tz), f"next future-dated post falls due; also {every}"),
        PlannedRun("bounces", None, mailbox),
        PlannedRun("runner", None, f"running: {holder}" if holder else "no `publisher run` now"),
    ]


def _local(moment: datetime | None, tz: Any) -> datetime | None:
    return moment.astimezone(tz) if moment is not None else None
