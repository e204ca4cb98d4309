"""Use cases: preview the next digest, send a test, send the edition, show status.

``send_digest`` resumes an unfinished edition first; otherwise it plans the
next one (posts since the last cutoff), and when there are new posts creates
it with its audience fixed, then drains the outbox. Rerunning after a crash
resumes: sent rows are never sent again, and only the batch that was in
flight can be sent twice.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from publisher.app.context import Context
from publisher.app.editions import (
    Composer,
    EditionDraft,
    EditionPlan,
    next_plan,
    posts_by_id,
    stored_templates,
)
from publisher.config import SmtpSettings
from publisher.delivery import FileTransport, Policy, SmtpTransport, Tally, Transport, drain
from publisher.digest.message import MessageTemplate
from publisher.errors import PublisherError, SendPaused
from publisher.models import Edition, OutboxItem, audience_key
from publisher.store import editions as edition_store
from publisher.store.outbox import OutboxStore
from publisher.store.processes import process_id

__all__ = [
    "EditionStatus",
    "SendOutcome",
    "SendReport",
    "digest_status",
    "make_transport",
    "paused_edition",
    "preview_digest",
    "resume_digest",
    "send_digest",
    "send_test",
]

Format = Literal["html", "text", "eml"]
SendOutcome = Literal[
    "no_posts", "dry_run", "dry_run_resume", "finished", "waiting", "nothing_to_retry"
]
"""How a send ended (the CLI, the console and the logs say it in their words)."""


@dataclass(frozen=True)
class SendReport:
    """What ``send_digest`` did: data for the edges to say (:func:`publisher.words.say`)."""

    edition: Edition | None
    created: bool
    outcome: SendOutcome
    tally: Tally | None
    counts: dict[str, int]
    retry_at: datetime | None = None
    dry_run: bool = False
    audiences: tuple[tuple[str, int], ...] = ()
    plan: EditionPlan | None = None
    failures: tuple[OutboxItem, ...] = ()
    """Some failed messages with the server's reply (the first 20)."""
    retry_reply: str = ""
    """What the server said to the first message waiting for a retry."""

    @property
    def key(self) -> str:
        """The outcome's sentence in the catalogue (``send_finished``…)."""
        return f"send_{self.outcome}"

    @property
    def values(self) -> dict[str, object]:
        """What the sentence says: the edition's number, how many wait for a retry."""
        number = self.edition.number if self.edition else 0
        return {"number": number, "pending": self.counts.get("pending", 0)}


@dataclass(frozen=True)
class EditionStatus:
    """One edition, its delivery counts, and (unfinished) what it waits for."""

    edition: Edition
    counts: dict[str, int]
    retrying: int = 0
    """Messages waiting for their backoff to end (4xx replies)."""
    retry_at: datetime | None = None
    """When the first of them is due."""
    retry_reply: str = ""
    """What the server said to it."""


def make_transport(smtp: SmtpSettings, password: str, folder: Path) -> Transport:
    """SMTP when ``[smtp] host`` is set (``password`` for its username), else ``.eml`` files
    in ``folder``."""
    if not smtp.host:
        return FileTransport(folder)
    return SmtpTransport(
        smtp.host,
        smtp.port,
        security=smtp.security,
        username=smtp.username,
        password=password,
        timeout=smtp.timeout,
        connections=smtp.connections,
        ca_file=smtp.ca_file,
    )


def _default_transport(ctx: Context, outbox: str) -> Transport:
    """The transport the settings say, ``.eml`` files going to ``var/outbox/OUTBOX``."""
    return make_transport(
        ctx.config.smtp, ctx.credentials.smtp_password, ctx.var / "outbox" / outbox
    )


def _draft(ctx: Context, plan: EditionPlan, date: datetime) -> EditionDraft:
    return EditionDraft(ctx, plan.number, plan.cutoff_to, date, plan.posts)


def _composer(ctx: Context, edition: Edition) -> Composer:
    """The edition's stored messages; re-rendered from the site only for pre-0004 editions."""
    stored = edition_store.message_templates(ctx.engine, edition.id)
    if stored:
        return Composer(ctx, edition.number, stored_templates(edition.number, stored))
    posts = posts_by_id(ctx, edition.post_ids)
    legacy = EditionDraft(ctx, edition.number, edition.cutoff_to, edition.created_at, posts)
    return Composer(ctx, edition.number, legacy.template_for)


def _planned_copy(ctx: Context, categories: tuple[str, ...]) -> tuple[Composer, MessageTemplate]:
    """The next edition's message for these categories, for a preview or a test copy."""
    plan = next_plan(ctx)
    if not plan.posts:
        raise PublisherError("no new posts since the last edition: there is nothing to show")
    draft = _draft(ctx, plan, plan.cutoff_to)
    template = draft.template_for(audience_key(categories))
    if template is None:
        raise PublisherError(f"no new posts in the categories {', '.join(categories)}")
    return Composer(ctx, plan.number, draft.template_for), template


def preview_digest(ctx: Context, fmt: Format, categories: tuple[str, ...] = ()) -> bytes:
    """The next edition as a subscriber would get it (HTML, text or .eml); writes nothing."""
    composer, template = _planned_copy(ctx, categories)
    data = composer.personal(template, 0, "preview@example.com", "")
    if fmt == "eml":
        return data
    import email
    import email.policy

    message = email.message_from_bytes(data, policy=email.policy.default)
    wanted = "html" if fmt == "html" else "plain"
    for part in message.walk():
        if part.get_content_type() == f"text/{wanted}":
            return str(part.get_content()).encode("utf-8")
    raise PublisherError(f"the message has no text/{wanted} part")


def send_test(ctx: Context, to: str, transport: Transport | None = None) -> str:
    """Send the next edition to ``to`` only, through the same code and headers as a real send.

    ``transport`` defaults to :func:`make_transport` (SMTP, or ``.eml`` files).
    """
    composer, template = _planned_copy(ctx, ())
    data = composer.personal(template, 0, to, "")
    transport = transport or _default_transport(ctx, "test")
    try:
        return transport.send(template.sender, to, data)
    finally:
        transport.close()


def send_digest(
    ctx: Context,
    on_progress: Callable[[Tally, dict[str, int]], None] | None = None,
    dry_run: bool = False,
    should_stop: Callable[[], bool] | None = None,
    transport: Transport | None = None,
) -> SendReport:
    """Create (or resume) the edition and deliver it; see the module docstring.

    ``transport`` defaults to :func:`make_transport` (SMTP, or ``.eml`` files
    under ``<var>/outbox/edition-N/``); pass one to send elsewhere, as httpx
    takes ``transport=``.
    """
    engine = ctx.engine
    edition = edition_store.unfinished_edition(engine)
    created = False
    if edition is None:
        plan = next_plan(ctx)
        if not plan.posts:
            return SendReport(None, False, "no_posts", None, {})
        if dry_run:
            audiences = tuple(edition_store.active_audiences(engine))
            return SendReport(
                None,
                False,
                "dry_run",
                None,
                {},
                dry_run=True,
                audiences=audiences,
                plan=plan,
            )
        edition, created = _create(ctx, plan)
    elif dry_run:
        counts = edition_store.edition_counts(engine, edition.id)
        return SendReport(
            edition,
            False,
            "dry_run_resume",
            None,
            counts,
            dry_run=True,
        )
    return _deliver(ctx, edition, created, on_progress, should_stop, transport)


def _create(ctx: Context, plan: EditionPlan) -> tuple[Edition, bool]:
    """Render every audience's message and store them with the new edition, in one transaction.

    Another send (an editor, the scheduler) may have created an edition first:
    then that one is returned, to be delivered from what it stored.
    """
    created_at = ctx.clock()
    draft = _draft(ctx, plan, created_at)
    keys = [key for key, _ in edition_store.active_audiences(ctx.engine)]
    edition = edition_store.create_edition(
        ctx.engine,
        cutoff_from=plan.cutoff_from,
        cutoff_to=plan.cutoff_to,
        subject=draft.subject,
        post_ids=tuple(p.id for p in plan.posts),
        messages=draft.messages(keys),
        now=created_at,
        after=plan.after,
    )
    return edition, edition.cutoff_to == plan.cutoff_to


def resume_digest(
    ctx: Context,
    should_stop: Callable[[], bool] | None = None,
    transport: Transport | None = None,
) -> SendReport:
    """Deliver what an unfinished edition still owes (retries now due); never starts a new one."""
    edition = edition_store.unfinished_edition(ctx.engine)
    if edition is None:
        return SendReport(None, False, "nothing_to_retry", None, {})
    return _deliver(ctx, edition, False, None, should_stop, transport)


def _deliver(
    ctx: Context,
    edition: Edition,
    created: bool,
    on_progress: Callable[[Tally, dict[str, int]], None] | None,
    should_stop: Callable[[], bool] | None,
    transport: Transport | None = None,
) -> SendReport:
    digest = ctx.config.digest
    queue = OutboxStore(ctx.engine, process_id(), bounce_limit=digest.bounce_limit)
    queue.release_dead_claims(edition.id, socket.gethostname())
    composer = _composer(ctx, edition)
    transport = transport or _default_transport(ctx, f"edition-{edition.number}")
    policy = Policy(
        batch_size=digest.batch_size,
        max_attempts=digest.max_attempts,
        retry_seconds=digest.retry_seconds,
        max_consecutive_errors=digest.max_consecutive_errors,
        rate_limit=digest.rate_limit,
        connections=ctx.config.smtp.connections if ctx.config.smtp.host else 1,
    )
    progress = None if on_progress is None else _Progress(queue, edition.id, on_progress)

    if edition.state == "paused":
        edition_store.set_edition_state(ctx.engine, edition.id, "sending")
    try:
        tally = drain(
            queue, transport, composer.compose, edition.id, policy, ctx.clock, progress, should_stop
        )
    except SendPaused as exc:
        # Shown as paused, with why, until a run resumes it; nothing claimed is left behind.
        later = ctx.clock() + timedelta(minutes=ctx.config.run.paused_retry_minutes)
        edition_store.set_edition_state(
            ctx.engine, edition.id, "paused", reason=exc.reason, reply=exc.reply, resume_at=later
        )
        raise
    counts = queue.counts(edition.id)
    _, retry_at, retry_reply = edition_store.retry_outlook(ctx.engine, edition.id)
    outcome: SendOutcome = "waiting"
    if counts.get("pending", 0) == 0 and counts.get("sending", 0) == 0:
        edition_store.set_edition_state(ctx.engine, edition.id, "finished")
        outcome = "finished"
    failures = tuple(queue.failures(edition.id)) if counts.get("failed") else ()
    return SendReport(
        edition,
        created,
        outcome,
        tally,
        counts,
        retry_at=retry_at,
        failures=failures,
        retry_reply=retry_reply,
    )


class _Progress:
    """Calls ``on_progress`` after each batch with the edition's counts.

    Counting reads every outbox row of the edition: 10-15 ms at 100,000 rows on
    SQLite, after each of 200 batches. So the database is asked at most once a
    second, and in between the counts are carried forward by what this send did.
    """

    def __init__(
        self,
        queue: OutboxStore,
        edition_id: int,
        on_progress: Callable[[Tally, dict[str, int]], None],
        every: float = 1.0,
    ) -> None:
        self.queue = queue
        self.edition_id = edition_id
        self.on_progress = on_progress
        self.every = every
        self.counted = 0.0
        self.counts: dict[str, int] = {}
        self.base = (0, 0)

    def __call__(self, tally: Tally) -> None:
        now = time.monotonic()
        if not self.counts or now - self.counted >= self.every:
            self.counts = self.queue.counts(self.edition_id)
            self.counted, self.base = now, (tally.sent, tally.failed)
        sent, failed = tally.sent - self.base[0], tally.failed - self.base[1]
        counts = dict(self.counts)
        counts["sent"] = counts.get("sent", 0) + sent
        counts["failed"] = counts.get("failed", 0) + failed
        counts["pending"] = max(counts.get("pending", 0) - sent - failed, 0)
        self.on_progress(tally, counts)


def digest_status(ctx: Context) -> list[EditionStatus]:
    """Every edition, newest first, with its delivery counts and, if unfinished, its retries."""
    rows = []
    for edition, counts in edition_store.list_editions(ctx.engine):
        status = EditionStatus(edition, counts)
        if edition.state != "finished":
            waiting, at, reply = edition_store.retry_outlook(ctx.engine, edition.id)
            status = EditionStatus(edition, counts, waiting, at, reply)
        rows.append(status)
    return rows


def paused_edition(ctx: Context) -> Edition | None:
    """The unfinished edition as stored, after a send paused (why, the reply, when again)."""
    return edition_store.unfinished_edition(ctx.engine)
