"""``publisher run``'s engine: APScheduler and a file watcher, calling the app's use cases.

An edge, like the CLI and the web pages: it decides nothing and holds no SQL.
It takes the one-runner lock (or, as a hot standby, waits for it running no
job, and takes over when the runner holding it stops or dies), then keeps
these jobs (the use cases are in :mod:`publisher.app.runner_jobs`):

========== ================================== ===========================================
job        when                               calls
========== ================================== ===========================================
feeds      a post file changed (watchfiles),   ``runner_jobs.refresh_feeds``
           every ``[run] rebuild_minutes``,
           and when a future-dated post falls
           due (``feeds-due``)
digest     ``[digest] schedule`` (site tz),    ``runner_jobs.send_scheduled_digest``
           stored in the database so a run
           missed while down is caught up
retry      when the first delivery waiting     ``runner_jobs.retry_deliveries``
           for its backoff may go again
purge      every hour                         ``runner_jobs.purge_expired_signups``
heartbeat  every third of ``lock_seconds``     ``RunnerLock.renew`` (real clock)
settings   every 5 s: ``_config.yml`` or        :func:`~publisher.app.reloading.reload_settings`,
           ``publisher.toml`` changed           then the jobs are replanned and the feeds rebuilt
========== ================================== ===========================================

The digest and retry jobs live in the SQLAlchemy job store (they must survive a
restart); the others are rebuilt at start and live in memory. Stored jobs keep
a reference to :func:`run_job`, not to objects, so it finds the running
:class:`Runner` in a module variable.

>>> Runner(ctx, Path("output")).run_forever()     # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from publisher.app import (
    Context,
    SettingsChange,
    digest_trigger,
    due_wakeup,
    read_bounces,
    reload_settings,
    resume_run_time,
    runner_jobs,
    settings_stamp,
)
from publisher.errors import PublisherError, RunnerBusy
from publisher.joblog import change_line, outcome_line

__all__ = ["Runner", "run_job"]

log = logging.getLogger("publisher.run")
_runner: Runner | None = None
SETTINGS_POLL_SECONDS = 5.0
"""How often the settings files are stat-ed for a change."""
PURGE_HOURS = 1.0
"""How often expired pending sign-ups are deleted."""


def run_job(name: str) -> None:
    """The function every job calls: hand over to the running :class:`Runner`."""
    if _runner is not None:
        _runner.run(name)


class Runner:
    """One ``publisher run``: start it, let it work until ``stop`` is set, then it cleans up."""

    def __init__(self, ctx: Context, output_dir: Path, stop: threading.Event | None = None):
        self.ctx = ctx
        self.output_dir = output_dir
        self.stop = stop or threading.Event()
        self.scheduler: Any = None
        self.lock: runner_jobs.HeldLock | None = None
        self._feeds = threading.Lock()
        self._mail = threading.Lock()
        self._settings_stamp = settings_stamp(ctx)
        self.lost_lock = False
        """Whether it stopped because another runner took the lock over (exit status 1)."""

    def run(self, name: str) -> runner_jobs.RunOutcome | None:
        """Run one job now, in the calling thread."""
        if name == "heartbeat":
            self._heartbeat()
            return None
        if name == "settings":
            self.check_settings()
            return None
        if name == "feeds":
            return self.refresh()
        if name == "purge":
            self.purge()
            return None
        if name == "bounces":
            self.read_bounces()
            return None
        return self.send(name)

    def refresh(self) -> runner_jobs.RunOutcome:
        """Rebuild the feeds; plan the rebuild for the next future-dated post."""
        with self._feeds:
            outcome = runner_jobs.refresh_feeds(self.ctx, self.output_dir)
        _log(outcome)
        wake = due_wakeup(outcome.next_due, self.ctx.clock())
        if wake is not None:
            self._at("feeds-due", "feeds", wake, "memory")
        return outcome

    def send(self, name: str) -> runner_jobs.RunOutcome:
        """The digest (``"digest"``) or the retries (``"retry"``); plan the next retry."""
        job = (
            runner_jobs.send_scheduled_digest if name == "digest" else runner_jobs.retry_deliveries
        )
        with self._mail:
            outcome = job(self.ctx, self.stop.is_set)
        _log(outcome)
        if outcome.retry_at is not None:
            self._at("retry", "retry", outcome.retry_at, "default")
        return outcome

    def purge(self) -> None:
        """Delete the expired pending sign-ups; a database that does not answer is tried later."""
        try:
            removed = runner_jobs.purge_expired_signups(self.ctx)
        except PublisherError as exc:
            log.error("purge: %s; trying again in an hour", exc)
            return
        if removed:
            log.info("purge: removed %d pending sign-ups whose confirm link expired", removed)

    def read_bounces(self) -> None:
        """Record what the bounce mailbox holds; a mailbox that does not answer is tried later."""
        try:
            report = read_bounces(self.ctx)
        except PublisherError as exc:
            minutes = self.ctx.config.bounces.poll_minutes
            log.error("bounces: %s; trying again in %g minutes", exc, minutes)
            return
        if report.read:
            found = ", ".join(f"{n} {kind}" for kind, n in sorted(report.counts.items()))
            log.info("bounces: read %d messages (%s)", report.read, found)

    def check_settings(self) -> SettingsChange | None:
        """Reload the settings if their files changed; replan and rebuild when applied."""
        stamp = settings_stamp(self.ctx)
        if stamp == self._settings_stamp:
            return None
        change = reload_settings(self.ctx)
        self._settings_stamp = stamp
        if change.applied and change.settings is not None:
            # The jobs that start from now on take the new context; one running keeps its own.
            self.ctx = self.ctx.with_settings(change.settings)
        level = (
            logging.ERROR
            if change.error
            else logging.WARNING
            if change.needs_restart
            else logging.INFO
        )
        log.log(level, "%s", change_line(change))
        if change.applied:
            if {"run", "bounces"} & set(change.changed):
                self._plan_timers()
            if {"site", "digest"} & set(change.changed):
                self._plan_digest()
            self.refresh()
        return change

    def start(self, wait: bool = False) -> bool:
        """Take the lock, then start the scheduler with every job planned.

        While another runner holds the lock this raises
        :class:`~publisher.errors.RunnerBusy`, or with ``wait`` stands by (no
        job runs) and takes over when that runner stops or dies; False if
        ``stop`` was set first (nothing was started).
        """
        global _runner
        settings = self.ctx.config
        self.lock = self._take_lock(wait)
        if self.lock is None:
            return False
        _runner = self
        self.scheduler = BackgroundScheduler(
            timezone=settings.site.tz,
            jobstores={
                "default": runner_jobs.runner_job_store(self.ctx),
                "memory": MemoryJobStore(),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.start(paused=True)  # plan first; missed runs are handled on resume
        self._plan_digest()
        self._plan_timers()
        self._add("settings", "interval", "memory", seconds=SETTINGS_POLL_SECONDS)
        self._at("retry", "retry", self.ctx.clock(), "default")  # an edition left unfinished
        self.scheduler.resume()
        return True

    def _take_lock(self, wait: bool) -> runner_jobs.HeldLock | None:
        if wait:
            lock = runner_jobs.stand_by_for_runner_lock(self.ctx, self.stop, _standing_by)
        else:
            lock = runner_jobs.hold_runner_lock(self.ctx)
        if lock is not None and lock.taken_from:
            log.info("run: took over the lock from %s", lock.taken_from)
        return lock

    def _plan_timers(self) -> None:
        run = self.ctx.config.run
        self._add("feeds", "interval", "memory", minutes=run.rebuild_minutes)
        self._add("heartbeat", "interval", "memory", seconds=run.lock_seconds / 3)
        self._add("purge", "interval", "memory", hours=PURGE_HOURS)
        bounces = self.ctx.config.bounces
        if bounces.host:
            self._add("bounces", "interval", "memory", minutes=bounces.poll_minutes)
        elif self.scheduler.get_job("bounces", "memory"):
            self.scheduler.remove_job("bounces", "memory")

    def _plan_digest(self) -> None:
        digest = self.ctx.config.digest
        trigger = digest_trigger(digest.schedule, self.ctx.config.site.tz)
        stored = self.scheduler.get_job("digest")
        next_at = resume_run_time(
            stored.trigger if stored else None,
            stored.next_run_time if stored else None,
            trigger,
            self.ctx.clock(),
        )
        self.scheduler.add_job(
            run_job,
            trigger,
            args=["digest"],
            id="digest",
            name="digest",
            replace_existing=True,
            next_run_time=next_at,
            misfire_grace_time=int(digest.misfire_grace_hours * 3600) or 1,
        )

    def _add(self, job_id: str, trigger: str, store: str, **every: float) -> None:
        self.scheduler.add_job(
            run_job,
            trigger,
            args=[job_id],
            id=job_id,
            jobstore=store,
            replace_existing=True,
            **every,
        )

    def _at(self, job_id: str, name: str, when: datetime, store: str) -> None:
        if self.scheduler is None or self.stop.is_set():
            return
        self.scheduler.add_job(
            run_job,
            "date",
            run_date=when,
            args=[name],
            id=job_id,
            name=name,
            jobstore=store,
            replace_existing=True,
        )

    def _heartbeat(self) -> None:
        if self.lock is None:
            return
        try:
            alive = self.lock.renew()  # the real clock, never --now
        except PublisherError as exc:  # the database is down: keep trying; a standby waits too
            log.error("run: cannot renew the lock, trying again: %s", exc)
            return
        if not alive:
            log.error("run: another runner took over the lock; stopping")
            self.lost_lock = True
            self.stop.set()

    def watch(self, on_change: Callable[[], object] | None = None) -> None:
        """Rebuild on every change under the posts folder until ``stop`` is set."""
        import watchfiles

        posts = self.ctx.site_dir / self.ctx.config.site.posts_dir
        if not posts.is_dir():
            log.warning("run: %s is not a folder: rebuilding on the timer only", posts)
            self.stop.wait()
            return
        for _changes in watchfiles.watch(posts, stop_event=self.stop, raise_interrupt=False):
            (on_change or self.refresh)()

    def shutdown(self) -> None:
        """Stop the jobs (a send in progress stops after its batch), release the lock."""
        global _runner
        self.stop.set()
        if self.scheduler is not None and self.scheduler.running:
            # APScheduler 3's loop looks for due jobs once more after shutdown() and
            # would move a due run past "now" without running it: detach the stores
            # first (the jobs stay in the database; shutdown=False keeps the engine).
            self.scheduler.pause()
            for alias in ("default", "memory"):
                self.scheduler.remove_jobstore(alias, shutdown=False)
            self.scheduler.shutdown(wait=True)
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        if _runner is self:
            _runner = None

    def run_forever(self, wait: bool = False) -> None:
        """Start (standing by first with ``wait``), build once, watch the posts until stopped."""
        try:
            if self.start(wait):
                self.refresh()
                self.watch()
        finally:
            self.shutdown()

    def next_runs(self) -> dict[str, datetime | None]:
        """Each planned job's next run time (for tests and logs)."""
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs()}


_TAKING_OVER = "taking over when it stops"


def _standing_by(reason: PublisherError) -> None:
    if isinstance(reason, RunnerBusy):
        log.info(
            "run: standing by: the lock is held by %s; taking over when it stops", reason.owner
        )
    else:
        log.warning("run: standing by: %s; trying again", reason)


def _log(outcome: runner_jobs.RunOutcome) -> None:
    (log.warning if outcome.problems else log.info)("%s", outcome_line(outcome))
