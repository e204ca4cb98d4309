"""Drain an edition's outbox: claim a batch, send each message, record the batch.

The worker owns the policy, not the transport. Who is at fault decides it:

- the recipient (a reply to RCPT, DATA or the end of the data): a 4xx is
  retried with exponential backoff up to ``max_attempts``; a 5xx is
  permanent (and a 5.1.x / 550-class reply counts as a bounce); after
  ``max_consecutive_errors`` such failures in a row the send pauses
  (:class:`~publisher.errors.SendPaused`) rather than burning the list;
- the relay or the sender (:class:`~publisher.errors.RelayError`: cannot
  connect, TLS, AUTH, greeting, ``MAIL FROM``, ``421``, connection lost, an
  unwritable outbox folder): nobody is charged. The message is given back
  unsent (released, its attempts unchanged), nothing more is taken, the
  messages already on their way on other connections are finished and
  recorded, and the send pauses at once: ``SendPaused.reply`` is what the
  server said, its reason what to fix. Run again, it resumes with the message
  that was given back.

A connection lost in the middle of a message (a ``421``, or dropped, as
relays do with idle connections or after so many messages) is not a pause by
itself: ``SmtpTransport`` opens a new connection and tries that message once
more; only a second loss in a row reaches the worker as a RelayError. So a
relay that closes connections now and then costs a reconnect, and one that
closes every connection pauses the send after one message instead of failing
the list.

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

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from publisher.delivery.pacing import Pacer
from publisher.delivery.transport import Transport
from publisher.errors import DeliveryError, PermanentDeliveryError, RelayError, SendPaused
from publisher.models import OutboxItem, Outcome

__all__ = ["Policy", "Queue", "Tally", "drain", "is_bounce", "relay_pause"]

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
    connections: int = 1
    """Messages on their way at once: one thread (and SMTP connection) each."""


@dataclass
class Tally:
    """Counts of what this drain did, for progress bars and reports."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    bounced: int = 0
    consecutive_errors: int = 0
    last_error: str = ""
    given_back: int = 0
    """Messages tried but given back unsent because the relay or the sender failed."""
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

    With ``policy.connections`` above 1, that many threads take the messages of
    a batch in turn and send them at once (the transport must allow it, as
    ``SmtpTransport`` does); the batch is recorded when all of them are done.
    Rows waiting for a retry later are left for a later call.
    Raises :class:`SendPaused` after too many consecutive errors, or at once
    on a relay fault (the message given back unsent, nobody charged).
    """
    tally = Tally()
    pacer = Pacer(policy.rate_limit, sleep)
    try:
        while not (should_stop and should_stop()):
            batch = queue.claim(edition_id, policy.batch_size, clock())
            if not batch:
                break
            tally.batches += 1
            run = _Batch(batch, transport, compose, policy, clock, tally, pacer)
            try:
                run.send()
            finally:
                _settle(queue, batch, run.outcomes)
                if on_progress is not None:
                    on_progress(tally)
    finally:
        transport.close()
    return tally


def _settle(queue: Queue, batch: list[OutboxItem], outcomes: list[Outcome]) -> None:
    """Record what was tried, in one transaction; give back what was not."""
    queue.record(outcomes)
    done = {o.item_id for o in outcomes}
    unsent = [item.id for item in batch if item.id not in done]
    if unsent:
        queue.release(unsent)


class _Batch:
    """One batch on its way: items handed out in claim order, each judged as it comes back.

    With ``connections`` above 1 that many threads run :meth:`_work`; a thread
    that finds the send must pause stops them all from taking more, and the
    messages already on their way are finished and judged (so that none the
    server accepted is given back and sent again).
    """

    def __init__(
        self,
        batch: list[OutboxItem],
        transport: Transport,
        compose: Compose,
        policy: Policy,
        clock: Callable[[], datetime],
        tally: Tally,
        pacer: Pacer,
    ) -> None:
        self.items = iter(batch)
        self.transport = transport
        self.compose = compose
        self.policy = policy
        self.clock = clock
        self.tally = tally
        self.pacer = pacer
        self.outcomes: list[Outcome] = []
        self.lock = threading.Lock()
        self.stopped: BaseException | None = None

    def send(self) -> None:
        """Send the batch; raise SendPaused (or whatever a thread raised) at the end."""
        threads = [
            threading.Thread(target=self._work, name=f"publisher-send-{n}", daemon=True)
            for n in range(1, self.policy.connections)
        ]
        for thread in threads:
            thread.start()
        try:
            self._work()
        except BaseException as exc:  # e.g. Ctrl-C while waiting: the others stop too
            with self.lock:
                self.stopped = self.stopped or exc
            raise
        finally:
            for thread in threads:  # a message on its way is finished, so it can be recorded
                thread.join()
        if self.stopped is not None:
            raise self.stopped

    def _work(self) -> None:
        while True:
            with self.lock:
                item = None if self.stopped else next(self.items, None)
            if item is None:
                return
            try:
                result = self._attempt(item)
            except BaseException as exc:  # a bug, or Ctrl-C: stop the batch, re-raised by send()
                with self.lock:
                    self.stopped = self.stopped or exc
                return
            with self.lock:
                if isinstance(result, RelayError):  # nobody's fault: given back by _settle
                    self.tally.given_back += 1
                    self.tally.last_error = str(result)
                    self.stopped = self.stopped or relay_pause(result)
                    continue
                self.outcomes.append(self._judge(item, result))
                if self.stopped is None:
                    self.stopped = self._pause()

    def _attempt(self, item: OutboxItem) -> str | DeliveryError:
        """The server's reply to one message, or why it was not accepted."""
        self.pacer.wait()
        try:
            sender, message = self.compose(item)
            return self.transport.send(sender, item.email, message)
        except DeliveryError as exc:
            return exc

    def _judge(self, item: OutboxItem, result: str | DeliveryError) -> Outcome:
        """The outcome of one attempt: sent, retry later with backoff, or failed."""
        tally, attempts = self.tally, item.attempts + 1
        if isinstance(result, str):
            tally.sent += 1
            tally.consecutive_errors = 0
            return Outcome(
                item_id=item.id,
                subscriber_id=item.subscriber_id,
                state="sent",
                attempts=attempts,
                reply=result,
                sent_at=self.clock(),
            )
        tally.consecutive_errors += 1
        tally.last_error = f"{item.email}: {result}"
        if isinstance(result, PermanentDeliveryError) or attempts >= self.policy.max_attempts:
            tally.failed += 1
            bounced = is_bounce(result)
            tally.bounced += bounced
            return Outcome(
                item_id=item.id,
                subscriber_id=item.subscriber_id,
                state="failed",
                attempts=attempts,
                reply=str(result),
                bounced=bounced,
            )
        tally.retrying += 1
        delay = self.policy.retry_seconds * 2 ** (attempts - 1)
        return Outcome(
            item_id=item.id,
            subscriber_id=item.subscriber_id,
            state="pending",
            attempts=attempts,
            reply=str(result),
            next_attempt_at=self.clock() + timedelta(seconds=delay),
        )

    def _pause(self) -> SendPaused | None:
        tally = self.tally
        if tally.consecutive_errors < self.policy.max_consecutive_errors:
            return None
        return SendPaused(
            f"{tally.consecutive_errors} messages in a row were refused"
            f" (last: {tally.last_error}); fix the cause and run the send again"
        )


def relay_pause(error: RelayError) -> SendPaused:
    """The pause for a relay fault: what happened, what to fix, the server's reply."""
    fix = error.fix or "check [smtp] and the relay"
    return SendPaused(
        f"the relay or the sender failed, not a subscriber: {str(error).rstrip('.')}."
        f" {_capital(fix)};"
        " no subscriber was charged, and the send resumes where it stopped when run again",
        reply=str(error),
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
