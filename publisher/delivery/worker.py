"""Drain an edition's outbox: claim a batch, send each message, record the batch.

The worker owns the policy, not the transport: 4xx replies and dropped
connections are retried with exponential backoff up to ``max_attempts``; 5xx
replies are permanent (and a 5.1.x / 550-class reply on the recipient counts
as a bounce); after ``max_consecutive_errors`` failures in a row the send
pauses (:class:`~publisher.errors.SendPaused`) rather than burning the list.

A row is recorded as sent only after the server accepted it, and outcomes are
recorded per batch, in one transaction. A crash therefore loses nothing: the
rows of the batch in flight stay claimed until their lease ends and are sent
again, and no other row is sent twice. (listmonk advances its resume marker
when it fetches a batch, before sending it, and so skips subscribers after a
crash; here nothing advances before the server has answered.)

The queue is declared here as a Protocol and satisfied by
``publisher.store.outbox.OutboxStore``; this module imports no store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from publisher.delivery.transport import Transport
from publisher.errors import DeliveryError, PermanentDeliveryError, SendPaused
from publisher.models import OutboxItem, Outcome

__all__ = ["Policy", "Queue", "Tally", "drain", "is_bounce"]

Compose = Callable[[OutboxItem], tuple[str, bytes]]
"""(envelope sender, message bytes) for one outbox item."""


class Queue(Protocol):
    """What the worker needs from the outbox."""

    def claim(self, edition_id: int, limit: int, now: datetime) -> list[OutboxItem]: ...

    def record(self, outcomes: Sequence[Outcome]) -> None: ...

    def release(self, item_ids: Sequence[int]) -> None: ...


@dataclass(frozen=True)
class Policy:
    """How hard to try, how fast to go."""

    batch_size: int = 500
    max_attempts: int = 5
    retry_seconds: float = 60.0
    max_consecutive_errors: int = 50
    rate_limit: float = 0.0


@dataclass
class Tally:
    """Counts of what this drain did, for progress bars and reports."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    bounced: int = 0
    consecutive_errors: int = 0
    last_error: str = ""
    batches: int = 0
    started: float = field(default_factory=time.monotonic)


def is_bounce(error: DeliveryError) -> bool:
    """Whether a permanent failure says the recipient does not exist (RFC 3463 5.1.x)."""
    if not isinstance(error, PermanentDeliveryError):
        return False
    return error.smtp_code in (550, 551, 553) or error.reply.lstrip().startswith("5.1.")


def drain(
    queue: Queue,
    transport: Transport,
    compose: Compose,
    edition_id: int,
    policy: Policy,
    clock: Callable[[], datetime],
    on_progress: Callable[[Tally], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Tally:
    """Send every claimable message of ``edition_id``; return when none is left to claim now.

    Rows waiting for a retry later are left for a later call.
    Raises :class:`SendPaused` after too many consecutive errors.
    """
    tally = Tally()
    try:
        while not (should_stop and should_stop()):
            batch = queue.claim(edition_id, policy.batch_size, clock())
            if not batch:
                break
            tally.batches += 1
            _send_batch(queue, transport, compose, batch, policy, clock, tally, on_progress, sleep)
    finally:
        transport.close()
    return tally


def _send_batch(
    queue: Queue,
    transport: Transport,
    compose: Compose,
    batch: list[OutboxItem],
    policy: Policy,
    clock: Callable[[], datetime],
    tally: Tally,
    on_progress: Callable[[Tally], None] | None,
    sleep: Callable[[float], None],
) -> None:
    outcomes: list[Outcome] = []
    interval = 1.0 / policy.rate_limit if policy.rate_limit > 0 else 0.0
    next_slot = time.monotonic()
    try:
        for item in batch:
            if interval:
                next_slot = _wait_for(next_slot, interval, sleep)
            outcome = _send_one(transport, compose, item, policy, clock(), tally)
            outcomes.append(outcome)
            if tally.consecutive_errors >= policy.max_consecutive_errors:
                raise SendPaused(
                    f"paused after {tally.consecutive_errors} failures in a row"
                    f" (last: {tally.last_error}); fix the cause and run the send again"
                )
    finally:
        queue.record(outcomes)
        done = {o.item_id for o in outcomes}
        unsent = [item.id for item in batch if item.id not in done]
        if unsent:
            queue.release(unsent)
        if on_progress is not None:
            on_progress(tally)


def _send_one(
    transport: Transport,
    compose: Compose,
    item: OutboxItem,
    policy: Policy,
    now: datetime,
    tally: Tally,
) -> Outcome:
    attempts = item.attempts + 1
    try:
        sender, message = compose(item)
        reply = transport.send(sender, item.email, message)
    except DeliveryError as exc:
        tally.consecutive_errors += 1
        tally.last_error = f"{item.email}: {exc}"
        if isinstance(exc, PermanentDeliveryError) or attempts >= policy.max_attempts:
            tally.failed += 1
            bounced = is_bounce(exc)
            tally.bounced += bounced
            return Outcome(
                item_id=item.id,
                subscriber_id=item.subscriber_id,
                state="failed",
                attempts=attempts,
                reply=str(exc),
                bounced=bounced,
            )
        tally.retrying += 1
        delay = policy.retry_seconds * 2 ** (attempts - 1)
        return Outcome(
            item_id=item.id,
            subscriber_id=item.subscriber_id,
            state="pending",
            attempts=attempts,
            reply=str(exc),
            next_attempt_at=now + timedelta(seconds=delay),
        )
    tally.sent += 1
    tally.consecutive_errors = 0
    return Outcome(
        item_id=item.id,
        subscriber_id=item.subscriber_id,
        state="sent",
        attempts=attempts,
        reply=reply,
        sent_at=now,
    )


def _wait_for(slot: float, interval: float, sleep: Callable[[float], None]) -> float:
    delay = slot - time.monotonic()
    if delay > 0:
        sleep(delay)
    return max(slot, time.monotonic()) + interval
