"""Mail that came back, recorded once: a bounce counts once per message, however often read.

A report is about one message: one edition's copy for one subscriber. Its
outbox row was ``sent`` (the relay took it); a bounce makes it ``failed``
with the remote server's words, in the same transaction that counts the
bounce against the subscriber (``bounced`` at ``[digest] bounce_limit``, and
their unsent mail stopped). Only a row still ``sent`` is changed, so reading
the same report again, after a crash or from a copy of the mailbox, counts
nothing more. A complaint unsubscribes the subscriber (also safe to repeat).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Engine, select, update

from publisher.store.outbox import REPLY_LIMIT
from publisher.store.schema import editions, outbox
from publisher.store.subscriber_writes import add_bounce, take_off_list

__all__ = ["ReturnOutcome", "record_return"]

ReturnOutcome = Literal["recorded", "already", "unknown"]
"""``recorded`` the first time; ``already`` for a report read before; ``unknown`` when no
such message is in the outbox (its edition or subscriber was deleted)."""


def record_return(
    engine: Engine,
    edition_number: int,
    subscriber_id: int,
    kind: Literal["bounce", "complaint"],
    reply: str,
    bounce_limit: int,
    now: datetime,
) -> ReturnOutcome:
    """Record what came back about one message (see the module docstring)."""
    with engine.begin() as conn:
        row = conn.execute(
            select(outbox.c.id, outbox.c.state)
            .join(editions, editions.c.id == outbox.c.edition_id)
            .where(editions.c.number == edition_number, outbox.c.subscriber_id == subscriber_id)
        ).one_or_none()
        if row is None:
            return "unknown"
        if kind == "complaint":
            return "recorded" if take_off_list(conn, subscriber_id, now) else "already"
        failed = conn.execute(
            update(outbox)
            .where(outbox.c.id == row.id, outbox.c.state == "sent")
            .values(state="failed", last_reply=f"returned: {reply}"[:REPLY_LIMIT])
        ).rowcount
        if not failed:
            return "already"
        add_bounce(conn, subscriber_id, bounce_limit, now)
        return "recorded"
