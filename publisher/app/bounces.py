"""Use case: read the bounce mailbox and record what came back (``publisher bounces read``).

Each message in ``[bounces] folder`` is read once: a delivery report or a
complaint about one of our messages (its ``Message-ID`` checked with the link
secret, see :mod:`publisher.delivery.returns`) is recorded against that
edition's copy for that subscriber (:func:`publisher.store.record_return`)
and moved to ``done_folder``; anything else to ``ignored_folder``, for a
person to look at. The database is written before the message is moved, and
a report read twice counts once, so a crash between the two loses nothing and
counts nothing twice. ``dry_run`` reads and says, and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from publisher.app.context import Context
from publisher.delivery.imap import ImapMailbox, Mailbox
from publisher.delivery.returns import our_copy, read_return
from publisher.store import record_return

__all__ = ["BOUNCE_BATCH", "BounceReport", "read_bounces"]

BOUNCE_BATCH = 500
"""Messages read in one go at the most; the rest wait for the next run."""

Seen = Literal["bounce", "complaint", "delay", "already", "unknown", "ignored"]


@dataclass(frozen=True)
class BounceReport:
    """What one reading found: how many messages of each kind."""

    counts: dict[str, int] = field(default_factory=dict)
    """``bounce``, ``complaint``, ``delay``, ``already`` (read before), ``unknown`` (no such
    message any more), ``ignored`` (not a report about one of ours)."""
    dry_run: bool = False

    @property
    def read(self) -> int:
        """Messages read."""
        return sum(self.counts.values())


def read_bounces(
    ctx: Context,
    mailbox: Mailbox | None = None,
    *,
    dry_run: bool = False,
    limit: int = BOUNCE_BATCH,
) -> BounceReport:
    """Read up to ``limit`` messages of the bounce mailbox (see the module docstring).

    ``mailbox`` defaults to ``[bounces]``'s IMAP account.
    """
    settings = ctx.config.bounces
    box = mailbox or ImapMailbox(
        settings.host,
        settings.port,
        username=settings.username,
        password=ctx.credentials.imap_password,
        folder=settings.folder,
        security=settings.security,
        timeout=settings.timeout,
        ca_file=settings.ca_file,
    )
    counts: Counter[str] = Counter()
    try:
        for uid in box.uids(limit):
            seen = _one(ctx, box.fetch(uid), dry_run)
            counts[seen] += 1
            if not dry_run:
                ignored = seen == "ignored"
                box.move(uid, settings.ignored_folder if ignored else settings.done_folder)
    finally:
        box.close()
    return BounceReport(dict(counts), dry_run)


def _one(ctx: Context, data: bytes | None, dry_run: bool) -> Seen:
    """What one message is, recorded unless ``dry_run``."""
    report = read_return(data) if data is not None else None
    if report is None:
        return "ignored"
    copy = our_copy(report.message_id, ctx.secret, ctx.config.site.domain)
    if copy is None:
        return "ignored"
    if report.kind == "delay" or dry_run:
        return report.kind
    outcome = record_return(
        ctx.engine,
        copy.edition,
        copy.subscriber_id,
        report.kind,
        report.reply,
        ctx.config.digest.bounce_limit,
        ctx.clock(),
    )
    return report.kind if outcome == "recorded" else outcome
