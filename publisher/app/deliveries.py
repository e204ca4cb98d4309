"""The delivery worker behind ``publisher worker``: more senders for one outbox.

One ``publisher run`` (or an editor) creates each edition and fixes its
audience; any number of workers, on this machine or others sharing the
PostgreSQL database, then deliver it. Each pass of a worker takes the oldest
unfinished edition and sends what is due now in batches claimed with
``FOR UPDATE SKIP LOCKED`` (SQLite: one writer at a time), so every
subscriber gets it once whoever sends it. A worker never creates an edition.

Between passes it waits ``[run] worker_poll_seconds``, or less when a retry
falls due sooner. A pass that finds nothing due renders nothing: it only asks
the database. An edition paused after too many errors in a row (by this
worker or another one) is left alone for ``[run] paused_retry_minutes`` and
then resumed.

>>> worker = DeliveryWorker(ctx)                          # doctest: +SKIP
>>> step = worker.step(should_stop=stop.is_set)           # doctest: +SKIP
>>> outcome_line(step.outcome) if step.outcome else "idle", step.wait   # doctest: +SKIP
('deliver: edition 3 finished (failed 0, pending 0, sending 0, sent 812) (1.92 s)', 0.0)
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from publisher.app.context import Context
from publisher.app.runner_jobs import RunOutcome, retry_deliveries
from publisher.store import editions as edition_store
from publisher.store.outbox import OutboxStore

__all__ = ["DeliveryWorker", "WorkerStep", "wait_seconds"]


@dataclass(frozen=True)
class WorkerStep:
    """One pass: what it delivered (None: nothing was due) and how long to wait now."""

    outcome: RunOutcome | None
    wait: float
    progressed: bool = False
    """Whether the pass sent something or finished its edition (worth another pass now)."""


def wait_seconds(now: datetime, poll: float, due: datetime | None) -> float:
    """How long to sleep: ``poll``, or less when something falls due sooner.

    >>> from datetime import UTC
    >>> t = datetime(2025, 11, 20, tzinfo=UTC)
    >>> wait_seconds(t, 5.0, None), wait_seconds(t, 5.0, t + timedelta(seconds=2))
    (5.0, 2.0)
    """
    if due is None:
        return poll
    return max(0.0, min(poll, (due - now).total_seconds()))


class DeliveryWorker:
    """Deliver unfinished editions pass by pass; remembers when a paused one may go again."""

    def __init__(self, ctx: Context, poll: float | None = None) -> None:
        self.ctx = ctx
        self.poll = poll
        """Seconds between passes when idle; None: ``[run] worker_poll_seconds``."""
        self._paused: dict[int, datetime] = {}
        """Edition id → when this worker may resume it."""

    def step(self, should_stop: Callable[[], bool] | None = None) -> WorkerStep:
        """Send what is due now of the oldest unfinished edition, if anything."""
        ctx, now = self.ctx, self.ctx.clock()
        poll = self.poll or ctx.config.run.worker_poll_seconds
        edition = edition_store.unfinished_edition(ctx.engine)
        if edition is None:
            return WorkerStep(None, poll)
        if edition.state == "paused":
            cooldown = timedelta(minutes=ctx.config.run.paused_retry_minutes)
            # The time stored with the paused edition is shared by every worker and runner.
            resume_at = edition.resume_at or self._paused.setdefault(edition.id, now + cooldown)
            if now < resume_at:
                return WorkerStep(None, wait_seconds(now, poll, resume_at))
        queue = OutboxStore(ctx.engine, f"{socket.gethostname()}:probe")
        if not queue.has_due(edition.id, now) and not self._finishable(queue, edition.id):
            return WorkerStep(None, wait_seconds(now, poll, queue.next_attempt_at(edition.id)))
        self._paused.pop(edition.id, None)
        outcome = retry_deliveries(ctx, should_stop)
        outcome = replace(outcome, job="deliver")
        after = edition_store.get_edition(ctx.engine, edition.id)
        state = after.state if after is not None else "finished"
        if state == "paused":  # too many errors in a row: leave the relay alone for a while
            later = outcome.retry_at or now + timedelta(minutes=ctx.config.run.paused_retry_minutes)
            self._paused[edition.id] = later
            return WorkerStep(outcome, wait_seconds(ctx.clock(), poll, later))
        progressed = bool(outcome.delivered) or state == "finished"
        # Look again at once when something moved: more may be due, or a next edition.
        return WorkerStep(outcome, 0.0 if progressed else poll, progressed)

    def drain(self, should_stop: Callable[[], bool] | None = None) -> list[RunOutcome]:
        """Passes until one delivers nothing (``publisher worker --once``)."""
        done: list[RunOutcome] = []
        while not (should_stop and should_stop()):
            step = self.step(should_stop)
            if step.outcome is not None:
                done.append(step.outcome)
            if not step.progressed:
                break
        return done

    @staticmethod
    def _finishable(queue: OutboxStore, edition_id: int) -> bool:
        """Nothing left to send, yet not marked finished (a sender stopped just before)."""
        counts = queue.counts(edition_id)
        return counts.get("pending", 0) == 0 and counts.get("sending", 0) == 0
