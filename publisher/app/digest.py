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

import hmac
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import cached_property

from publisher.app.context import Context
from publisher.config import Settings
from publisher.content import read_posts
from publisher.digest.edition import posts_for_audience, select_posts
from publisher.digest.message import MessageTemplate, build_template, personalize
from publisher.digest.render import DigestContent, render_digest
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
    now = ctx.as_of()
    days = ctx.config.digest.first_edition_days
    posts = select_posts(_published_posts(ctx, now), last_cutoff, now, days)
    start = last_cutoff or now - timedelta(days=days)
    return EditionPlan(
        number=number, cutoff_from=start, cutoff_to=now, posts=tuple(posts), after=last_cutoff
    )


def posts_by_id(ctx: Context, ids: Sequence[str]) -> tuple[Post, ...]:
    """The edition's posts, re-read from the site (newest first); deleted ones are gone."""
    wanted = set(ids)
    return tuple(p for p in _published_posts(ctx, ctx.as_of()) if p.id in wanted)


@dataclass
class Composer:
    """Builds each audience's message once, then personalises it per outbox item.

    Safe to share between sending threads: a message is built under a lock, once.
    """

    ctx: Context
    number: int
    cutoff: datetime
    date: datetime
    posts: tuple[Post, ...]
    _templates: dict[str, MessageTemplate | None] = field(default_factory=dict)
    _contents: dict[str, DigestContent | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def template_for(self, audience: str) -> MessageTemplate | None:
        """The message for an audience key, or None when none of its categories has a post."""
        try:
            return self._templates[audience]
        except KeyError:
            pass
        with self._lock:
            if audience not in self._templates:
                content = self._content(audience)
                self._templates[audience] = None if content is None else self._build(content)
            return self._templates[audience]

    def dated(self, date: datetime) -> Composer:
        """The same edition with another ``Date``, reusing what was rendered so far."""
        with self._lock:
            contents = dict(self._contents)
        return Composer(self.ctx, self.number, self.cutoff, date, self.posts, _contents=contents)

    def _content(self, audience: str) -> DigestContent | None:
        if audience not in self._contents:
            categories = tuple(audience.split("\x1f")) if audience else ()
            chosen = posts_for_audience(self.posts, categories)
            self._contents[audience] = (
                render_digest(chosen, number=self.number, cutoff=self.cutoff, settings=self.config)
                if chosen
                else None
            )
        return self._contents[audience]

    def _build(self, content: DigestContent) -> MessageTemplate:
        return build_template(
            content,
            settings=self.config,
            edition_number=self.number,
            date=self.date,
            list_id=f"digest.{self.config.site.domain}",
        )

    @property
    def config(self) -> Settings:
        """The settings of the context."""
        return self.ctx.config

    @property
    def subject(self) -> str:
        """The subject as subscribers of every category see it (stored with the edition)."""
        self.template_for("")
        content = self._contents.get("")
        return content.subject if content is not None else f"#{self.number}"

    @cached_property
    def _fixed(self) -> tuple[bytes, str, str, str]:
        """What every subscriber's copy shares: secret, envelope sender, links' base, domain."""
        mailbox = parseaddr(sender_of(self.ctx))[1]
        base = self.config.web.base_url.rstrip("/")
        return self.ctx.secret, mailbox, base, self.config.site.domain

    def personal(
        self, template: MessageTemplate, subscriber_id: int, email: str, name: str
    ) -> bytes:
        """One subscriber's copy: their address, name, Message-ID and signed links."""
        secret, mailbox, base, domain = self._fixed
        token = sign(secret, "unsubscribe", subscriber_id)
        mac = hmac.digest(secret, f"{self.number}/{subscriber_id}".encode(), "sha256")
        return personalize(
            template,
            to=email,
            name=name,
            message_id=f"<digest.{self.number}.{subscriber_id}.{mac.hex()[:12]}@{domain}>",
            unsubscribe_url=f"{base}/unsubscribe/{token}",
            unsubscribe_mailto=f"mailto:{mailbox}?subject=unsubscribe%20{token}",
            preferences_url=f"{base}/preferences/{sign(secret, 'preferences', subscriber_id)}",
        )

    def compose(self, item: OutboxItem) -> tuple[str, bytes]:
        """(envelope sender, bytes) for one outbox row: the worker's ``Compose``."""
        template = self.template_for(item.audience)
        if template is None:
            raise PermanentDeliveryError("no new posts in this subscriber's categories")
        envelope = self._fixed[1]
        return envelope, self.personal(template, item.subscriber_id, item.email, item.name)
