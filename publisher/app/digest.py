"""Use cases of the weekly digest: preview, test, send, status.

An edition covers the posts published after the previous edition's cutoff and
up to its own (``now``); the first one looks back ``first_edition_days``. The
cutoff is stored with the edition, so a missed week or a crash never skips or
repeats a post, and an unfinished edition is resumed before a new one is made.

Rendering happens once per audience group (subscribers with the same choice of
categories): Jinja → premailer → MIME bytes with placeholders; each subscriber
only gets their own values spliced in.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr

from publisher.app.context import Context
from publisher.content import read_posts
from publisher.digest.edition import posts_for_audience, select_posts
from publisher.digest.message import MessageTemplate, build_template, personalize
from publisher.digest.render import render_digest
from publisher.errors import PermanentDeliveryError
from publisher.models import OutboxItem, Post
from publisher.tokens import sign

__all__ = ["Composer", "EditionPlan", "plan_next_edition", "sender_of"]


@dataclass(frozen=True)
class EditionPlan:
    """What the next edition would hold, before anything is written."""

    number: int
    cutoff_from: datetime
    cutoff_to: datetime
    posts: tuple[Post, ...]
    after: datetime | None = None
    """The previous edition's cutoff this plan starts from (None: the first edition)."""


def sender_of(ctx: Context) -> str:
    """The ``From:`` of digests: ``[digest] from``, else the site's name at noreply@domain."""
    site = ctx.config.site
    return ctx.config.digest.sender or f"{site.title} <noreply@{site.domain}>"


def _published_posts(ctx: Context, now: datetime) -> tuple[Post, ...]:
    cache = ctx.var / "cache" / "posts.json"
    return read_posts(ctx.site_dir, ctx.config, now, cache_file=cache).posts


def plan_next_edition(ctx: Context, last_cutoff: datetime | None, number: int) -> EditionPlan:
    """The posts after ``last_cutoff`` up to now (may be none)."""
    now = ctx.clock()
    days = ctx.config.digest.first_edition_days
    posts = select_posts(_published_posts(ctx, now), last_cutoff, now, days)
    start = last_cutoff or now - timedelta(days=days)
    return EditionPlan(
        number=number, cutoff_from=start, cutoff_to=now, posts=tuple(posts), after=last_cutoff
    )


def posts_by_id(ctx: Context, ids: Sequence[str]) -> tuple[Post, ...]:
    """The edition's posts, re-read from the site (newest first); deleted ones are gone."""
    wanted = set(ids)
    return tuple(p for p in _published_posts(ctx, ctx.clock()) if p.id in wanted)


@dataclass
class Composer:
    """Builds each audience's message once, then personalises it per outbox item."""

    ctx: Context
    number: int
    cutoff: datetime
    date: datetime
    posts: tuple[Post, ...]
    _templates: dict[str, MessageTemplate | None] = field(default_factory=dict)
    _subjects: dict[str, str] = field(default_factory=dict)

    def template_for(self, audience: str) -> MessageTemplate | None:
        """The message for an audience key, or None when none of its categories has a post."""
        if audience not in self._templates:
            categories = tuple(audience.split("\x1f")) if audience else ()
            chosen = posts_for_audience(self.posts, categories)
            self._templates[audience] = self._build(audience, chosen) if chosen else None
        return self._templates[audience]

    def _build(self, audience: str, posts: Sequence[Post]) -> MessageTemplate:
        content = render_digest(
            posts, number=self.number, cutoff=self.cutoff, settings=self.ctx.config
        )
        self._subjects[audience] = content.subject
        return build_template(
            content,
            settings=self.ctx.config,
            edition_number=self.number,
            date=self.date,
            list_id=f"digest.{self.ctx.config.site.domain}",
        )

    @property
    def subject(self) -> str:
        """The subject as subscribers of every category see it (stored with the edition)."""
        self.template_for("")
        return self._subjects.get("", f"#{self.number}")

    def personal(
        self, template: MessageTemplate, subscriber_id: int, email: str, name: str
    ) -> bytes:
        """One subscriber's copy: their address, name, Message-ID and signed links."""
        secret = self.ctx.secret
        token = sign(secret, "unsubscribe", subscriber_id)
        base = self.ctx.config.web.base_url.rstrip("/")
        domain = self.ctx.config.site.domain
        tag = hmac.new(
            secret, f"{self.number}/{subscriber_id}".encode(), hashlib.sha256
        ).hexdigest()[:12]
        mailbox = parseaddr(sender_of(self.ctx))[1]
        return personalize(
            template,
            to=email,
            name=name,
            message_id=f"<digest.{self.number}.{subscriber_id}.{tag}@{domain}>",
            unsubscribe_url=f"{base}/unsubscribe/{token}",
            unsubscribe_mailto=f"mailto:{mailbox}?subject=unsubscribe%20{token}",
            preferences_url=f"{base}/preferences/{sign(secret, 'preferences', subscriber_id)}",
        )

    def compose(self, item: OutboxItem) -> tuple[str, bytes]:
        """(envelope sender, bytes) for one outbox row: the worker's ``Compose``."""
        template = self.template_for(item.audience)
        if template is None:
            raise PermanentDeliveryError("no new posts in this subscriber's categories")
        envelope = parseaddr(sender_of(self.ctx))[1]
        return envelope, self.personal(template, item.subscriber_id, item.email, item.name)
